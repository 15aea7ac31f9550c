// Tier 1 (no kernel): trace's expression rewriting (aliases, STRCMP with and without -B) and message rendering,
// and argdist's specifier parsing (char* keys, several expressions, $entry/$latency, BCC's defaults), with the
// usage errors wrong specifiers give; USDT arguments (aliases, reads typed by the probe's specs, u:LIB:PROVIDER:PROBE)
// and -I headers (files hashed into the line, kernel header names, usage errors).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { extraIncludes } from "../../src/tools/lib/extra-includes.js";
import { parseUsdtAwareSpec, usdtArgReads } from "../../src/tools/lib/usdt-args.js";
import type { ProbePlan } from "../../src/tools/lib/probe-spec.js";
import { cExpr, parseTraceProbe, renderMessage } from "../../src/tools/lib/trace-program.js";
import { needsEntry, parseSpecifier } from "../../src/tools/lib/argdist-program.js";

test("trace: STRCMP becomes a generated compare (balanced parentheses), aliases become helpers", () => {
  const helpers: string[] = [];
  const c = cExpr('STRCMP("/etc", (char *)arg2) && $tgid == 5', helpers);
  assert.equal(c, "tsbcc_streq_0((u64)((char *)PT_REGS_PARM2(ctx))) && (unsigned)(bpf_get_current_pid_tgid() >> 32) == 5");
  assert.equal(helpers.length, 1);
  assert.match(helpers[0]!, /char want\[\] = "\/etc";/);
  const bin: string[] = [];
  cExpr('STRCMP("{0x41,0x42,0}", arg1)', bin, true);
  assert.match(bin[0]!, /char want\[\] = \{0x41,0x42,0\};/);
  assert.throws(() => cExpr('STRCMP("AB", arg1)', [], true), /C array initializer/);
  assert.throws(() => cExpr("STRCMP(arg1, arg2)", []), /invalid STRCMP/);
  assert.throws(() => cExpr('STRCMP("x", arg1', []), /invalid STRCMP/);
});

test("trace: conversions, %K/%U kinds, rendering", () => {
  const p = parseTraceProbe('p:c:write (arg1 == 1) "%d %s %K %-4x|", arg1, arg2, arg3, arg4');
  assert.deepEqual(p.kinds, ["n", "s", "K", "n"]);
  assert.deepEqual(p.strings, [false, true, false, false]);
  assert.equal(p.filter, "arg1 == 1");
  assert.equal(renderMessage(p.format, [-1n & 0xffffffffn, "hi", "do_sys_open+0x0", 255n]), "-1 hi do_sys_open+0x0 ff  |");
});

test("argdist: char* keys, several expressions, $entry/$latency, defaults and errors", () => {
  const s = parseSpecifier("p:c:write(int fd, char *buf, size_t n):int,char*,size_t:fd,buf,n:fd==1#writes", "count");
  assert.deepEqual(s.exprs, [{ type: "int", expr: "fd" }, { type: "char*", expr: "buf" }, { type: "size_t", expr: "n" }]);
  assert.equal(s.filter, "fd==1");
  assert.equal(s.label, "writes");
  const lat = parseSpecifier("r:c:read(int fd, void *b, size_t n):u64:$latency/$entry(n)", "histogram");
  assert.equal(needsEntry(lat), true);
  assert.equal(needsEntry(parseSpecifier("r:c:read():int:$retval", "count")), false);
  assert.deepEqual(parseSpecifier("r:c:read()", "count").exprs, [{ type: "int", expr: "$retval" }]);
  assert.deepEqual(parseSpecifier("p:c:fork()", "count").exprs, [{ type: "u64", expr: "1" }]);
  assert.throws(() => parseSpecifier("p:c:fork()", "histogram"), /histograms must have an expression/);
  assert.throws(() => parseSpecifier("p:c:puts(char *s):char*:s", "histogram"), /numeric type/);
  assert.throws(() => parseSpecifier("p:c:w(int a, int b):int,int:a", "count"), /mismatched/);
  assert.throws(() => parseSpecifier("p:c:w(int a, int b):int,int:a,b", "histogram"), /only have 1 expr/);
  assert.throws(() => parseSpecifier("p:c:w(int a):u64:$latency", "histogram"), /return probes/);
  assert.throws(() => parseSpecifier("r:c:w(int a):u64:$entry(b)", "histogram"), /no such parameter/);
  assert.throws(() => parseSpecifier("r:c:w(int a):int:a", "count"), /not the parameters/);
});

test("USDT arguments: aliases in expressions and STRCMP, reads typed by the probe's argument specs, u:LIB:PROVIDER:PROBE", () => {
  const helpers: string[] = [];
  assert.equal(cExpr('arg1 > 2 && STRCMP("x", arg2)', helpers, false, true), "__usdt_arg1 > 2 && tsbcc_streq_0((u64)(__usdt_arg2))");
  assert.equal(cExpr("arg1", []), "PT_REGS_PARM1(ctx)");
  const location = { args: [{ signed: true }, { signed: false }] };
  const plan = {
    spec: { type: "u", library: "x", pattern: "work", text: "u:x:work" }, targets: [{ name: "tsbcc:work", fnName: "probe0_0" }],
    usdt: { enabled: () => [{ probe: { provider: "tsbcc", name: "work", locations: [location] }, fnName: "probe0_0" }] },
  } as unknown as ProbePlan;
  assert.equal(usdtArgReads("trace", plan, ["arg2 + arg1", undefined, "arg2"]),
    "    s64 __usdt_arg1 = 0;\n    bpf_usdt_readarg(1, ctx, &__usdt_arg1);\n    u64 __usdt_arg2 = 0;\n    bpf_usdt_readarg(2, ctx, &__usdt_arg2);\n");
  assert.equal(usdtArgReads("trace", plan, ["1"]), "");
  assert.throws(() => usdtArgReads("trace", plan, ["arg3"]), /tsbcc:work has 2 arguments \(arg1\.\.arg2\); there is no arg3/);
  assert.equal(usdtArgReads("trace", { ...plan, spec: { ...plan.spec, type: "p" } }, ["arg3"]), "");
  assert.deepEqual(parseUsdtAwareSpec("trace", "u:lib:prov:probe", ["p", "u"]), { type: "u", library: "lib", pattern: "prov:probe", text: "u:lib:prov:probe" });
  assert.equal(parseUsdtAwareSpec("trace", "u:lib:probe", ["u"]).pattern, "probe");
  assert.throws(() => parseUsdtAwareSpec("trace", "p:a:b:c", ["p", "u"]), /unrecognized probe/);
  assert.throws(() => parseUsdtAwareSpec("argdist", "u:lib:prov:probe", ["p"]), /unrecognized probe/);
  assert.equal(parseSpecifier("u:lib:probe():u64:arg1", "count").probe, "u:lib:probe");
  assert.throws(() => parseSpecifier("u:lib:probe(int a):int:a", "count"), /USDT probe has no signature/);
  assert.throws(() => parseSpecifier("u:lib:probe():int:$retval", "count"), /return probes/);
});

test("-I headers: a file (absolute or relative) hashed into its line, a kernel header name, errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-inc-"));
  try {
    const file = join(dir, "my.h");
    writeFileSync(file, "#define A 1\n");
    const first = extraIncludes("trace", [file, relative(process.cwd(), file), "linux/sched.h"]);
    assert.match(first, new RegExp(`^#include "${file}" /\\* sha256 [0-9a-f]{16} \\*/\n#include <linux/sched.h>\n$`));
    writeFileSync(file, "#define A 2\n");
    assert.notEqual(extraIncludes("trace", [file]), first.split("\n")[0] + "\n");
    assert.equal(extraIncludes("trace", undefined), "");
    assert.throws(() => extraIncludes("trace", ["kernel/sched/sched.h"]), /neither a file nor a kernel header/);
    assert.throws(() => extraIncludes("argdist", [join(dir, "none.h")]), /none\.h: no such file/);
    assert.throws(() => extraIncludes("trace", [dir]), /no such file/);
    assert.throws(() => extraIncludes("trace", ['a"b.h']), /invalid header/);
    assert.throws(() => extraIncludes("trace", "linux/sched.h" as unknown as string[]), /must be an array/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("trace: BCC's signature (parentheses touching the probe) vs a filter (after a space)", () => {
  const sig = parseTraceProbe('p:c:write(int fd, const char *buf) (fd == 1) "%s", buf');
  assert.deepEqual([sig.probe, sig.params, sig.filter, sig.args], ["p:c:write", [{ type: "int", name: "fd" }, { type: "const char *", name: "buf" }], "fd == 1", ["buf"]]);
  assert.deepEqual(parseTraceProbe("p::tcp_v4_connect(struct sock *sk)").params, [{ type: "struct sock *", name: "sk" }]);
  assert.deepEqual(parseTraceProbe("p:c:write(arg1 == 1)").params, []);
  assert.equal(parseTraceProbe('p:c:write (arg1 == 1) "x"').filter, "arg1 == 1");
  assert.throws(() => parseTraceProbe("r:c:malloc(size_t n)"), /only entry probes/);
  assert.throws(() => parseTraceProbe("t:sched:sched_switch(int x)"), /only entry probes/);
  assert.throws(() => parseTraceProbe("p:c:f(int a, int b, int c, int d, int e, int f, int g)"), /at most 6 parameters/);
});
