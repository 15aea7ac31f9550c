// Compile errors are reported at the user's file:line:column with the user's source line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileError, compileMini, skipReason } from "../fixtures/dialect/harness.js";
import { DialectError } from "../../src/dialect/index.js";

async function expectError(text: string, line: number, message: RegExp, fileName = "prog.c"): Promise<DialectError> {
  const err = await compileError(text, { fileName });
  const d = err.diagnostics.find((x) => x.severity === "error");
  assert.ok(d, `an error diagnostic in ${JSON.stringify(err.diagnostics)}`);
  assert.equal(d.file, fileName);
  assert.equal(d.line, line, `${d.message} at line ${d.line}`);
  assert.match(d.message, message);
  assert.equal(d.sourceLine, text.split("\n")[line - 1]);
  assert.ok(err.message.startsWith(`${fileName}:${line}:`), err.message);
  return err;
}

test("syntax error", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`#include <linux/sched.h>\nint f(struct pt_regs *ctx) {\n  int x = ;\n  return 0;\n}\n`, 3, /expected expression/);
});

test("unknown map method", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`BPF_HASH(counts, u32);\n\nint f(struct pt_regs *ctx) {\n  u32 k = 0;\n  counts.lookupp(&k);\n  return 0;\n}\n`, 5,
    /^unknown map method lookupp on map counts \(did you mean lookup\?\)$/);
  await expectError(`BPF_PERF_OUTPUT(events);\nint f(struct pt_regs *ctx) {\n  u32 k = 0;\n  events.lookup(&k);\n  return 0;\n}\n`, 4,
    /^unknown map method lookup on map events$/);
});

test("map declared before its key struct is defined: unknown type", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`#include <linux/sched.h>\nBPF_HASH(drops, struct key_t);\nstruct key_t { u32 a; };\nint f(struct pt_regs *ctx) { return 0; }\n`, 2,
    /unknown type struct key_t/);
});

test("call of a non-static function defined in the file", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`int helper(struct pt_regs *ctx) { return 1; }\nint f(struct pt_regs *ctx) {\n  return helper(ctx);\n}\n`, 3,
    /^cannot call non-static helper function helper; make it static$/);
});

test("get_stackid on a map that is not a stack trace map", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`BPF_HASH(h, u32);\nint f(struct pt_regs *ctx) {\n  return h.get_stackid(ctx, 0);\n}\n`, 3,
    /get_stackid only available on stacktrace maps/);
});

test("printk: more than 3 arguments is an error, bad conversions are warnings", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`int f(struct pt_regs *ctx) {\n  int a = 1;\n  bpf_trace_printk("%d %d %d %d\\n", a, a, a, a);\n  return 0;\n}\n`, 3,
    /at most 3 arguments/);
  const r = await compileMini(`int f(struct pt_regs *ctx) {\n  char *s = "x";\n  bpf_trace_printk("%s %s %f\\n", s, s, 1);\n  return 0;\n}\n`);
  const msgs = r.warnings.filter((w) => w.line === 3).map((w) => w.message);
  assert.ok(msgs.some((m) => /only %d %u %x .* conversion specifiers allowed, found %f/.test(m)), msgs.join("|"));
  assert.ok(msgs.includes("cannot use several %s conversion specifiers"), msgs.join("|"));
  assert.ok(r.warnings.every((w) => w.file === "prog.c" && w.sourceLine === '  bpf_trace_printk("%s %s %f\\n", s, s, 1);'));
});

test("missing tracepoint", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`#include <linux/sched.h>\n\nTRACEPOINT_PROBE(nosuch, event) {\n  return 0;\n}\n`, 3, /tracepoint nosuch:event not found/);
});

test("too many register parameters and unnamed parameters", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`int kprobe__f(struct pt_regs *ctx, int a, int b, int c, int d, int e, int f, int g) {\n  return a;\n}\n`, 1,
    /too many arguments, bcc only supports in-register parameters/);
  await expectError(`\nint kprobe__f(struct pt_regs *ctx, int) {\n  return 0;\n}\n`, 2, /arguments to BPF program definition must be named/);
});

test("undeclared functions are errors, not load-time surprises; USDT is named", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`int f(struct pt_regs *ctx) {\n  return nosuch_helper(1);\n}\n`, 2, /implicit declaration of function 'nosuch_helper'/);
  await expectError(`int f(struct pt_regs *ctx) {\n  u64 x;\n  bpf_usdt_readarg(1, ctx, &x);\n  return 0;\n}\n`, 3, /give BPF.load the USDT contexts/);
});

test("BPF_LICENSE through cflags is refused", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  const err = await compileError(`int f(struct pt_regs *ctx) { return 0; }\n`, { cflags: ["-DBPF_LICENSE=GPL"] });
  assert.match(err.message, /BPF_LICENSE cannot be specified through cflags/);
});

test("the file name given is used in messages", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  await expectError(`int f(struct pt_regs *ctx) {\n  return x;\n}\n`, 2, /use of undeclared identifier 'x'/, "tools/mytool.c");
});

test("a kernel struct the program redefines is taken from the kernel, with a warning", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  // BCC tools declare private kernel structs (struct nameidata ...); vmlinux.h already has them.
  const r = await compileMini(`#include <linux/sched.h>\nstruct qstr {\n  u32 hash;\n};\nint kprobe__f(struct pt_regs *ctx, struct qstr *q) {\n  return q->len;\n}\n`);
  const w = r.warnings.find((x) => /struct qstr|qstr is also defined/.test(x.message));
  assert.ok(w, JSON.stringify(r.warnings));
  assert.equal(w.line, 2);
});

test("errors in generated code (codegen run) point at the user's call", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  // increment() on a struct leaf type-checks against the analyze-mode signature but its generated += does not.
  const err = await expectError(`#include <linux/sched.h>\nstruct v_t { u64 a; };\nBPF_HASH(h, u32, struct v_t);\nint f(struct pt_regs *ctx) {\n  u32 k = 0;\n  h.increment(k);\n  return 0;\n}\n`,
    6, /invalid operands to binary expression/);
  assert.equal(err.diagnostics[0]!.column, 3);
});
