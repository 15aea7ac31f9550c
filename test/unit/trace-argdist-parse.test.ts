// Tier 1 (no kernel): trace's expression rewriting (aliases, STRCMP with and without -B) and message rendering,
// and argdist's specifier parsing (char* keys, several expressions, $entry/$latency, BCC's defaults), with the
// usage errors wrong specifiers give.
import { test } from "node:test";
import assert from "node:assert/strict";
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
