// Unit tier (issue 9, item 5): errors that tell the truth, on synthetic inputs. Verifier hints follow the verdict
// (not register states earlier in the log), the stack-limit error points at the array that fills the stack and is
// said once, privileges are judged from the capability mask, and declarations are found in the user's source.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hintFor, verdictLines } from "../../src/loader/verifier.js";
import { DialectError, stackLimitCulprit, type Diagnostic } from "../../src/dialect/diagnostics.js";
import { missingTracingCapabilities, requireTracingPrivileges, PrivilegeError, effectiveCapabilities } from "../../src/kernel/privileges.js";
import { declarationLine } from "../../src/api/user-lines.js";
import { attributed } from "../../src/api/origin.js";
import { ErrorCode, TsbccError } from "../../src/errors.js";

const TOO_COMPLEX = [
  "0: R1=ctx() R10=fp0",
  "5: (85) call bpf_map_lookup_elem#1     ; R0_w=map_value_or_null(id=1,off=0,ks=4,vs=8,imm=0)",
  "17: (57) r0 &= 1                      ; R0=scalar(smin=0,smax=1)",
  "18: (15) if r0 == 0x0 goto pc+2",
  "The sequence of 8193 jumps is too complex.",
  "processed 114689 insns (limit 1000000) max_states_per_insn 4 total_states 2052 peak_states 2052 mark_read 0",
].join("\n");

test("verifier hints follow the verdict, not earlier register states", () => {
  assert.equal(verdictLines(TOO_COMPLEX), "The sequence of 8193 jumps is too complex.");
  assert.match(hintFor(TOO_COMPLEX)!, /gave up on the number of paths/);
  assert.doesNotMatch(hintFor(TOO_COMPLEX)!, /NULL/);
  const nullDeref = "7: (79) r0 = *(u64 *)(r0 +0)\nR0 invalid mem access 'map_value_or_null'\nprocessed 7 insns (limit 1000000)";
  assert.match(hintFor(nullDeref)!, /NULL/);
  assert.match(hintFor("100: (05) goto pc-1\nBPF program is too large. Processed 1000001 insn\nprocessed 1000001 insns")!, /budget of 1,000,000/);
  assert.match(hintFor("3: (bf) r1 = r2\nR2 !read_ok\n")!, /read before it is written/);
  assert.equal(hintFor("0: (b7) r0 = 0\nsomething new\n"), undefined);
});

test("the stack-limit error points at the largest local array of the function, and is said once", () => {
  const text = "int f(void *ctx) {\n  int small[4];\n  char big[600];\n  return 0;\n}\nint g(void *ctx) { char other[900]; return 0; }\n";
  assert.deepEqual(stackLimitCulprit("Looks like the BPF stack limit of 512 bytes is exceeded. Please move...", { line: 1, col: 5 }, text), { line: 3, col: 3 });
  assert.equal(stackLimitCulprit("some other error", { line: 1, col: 5 }, text), undefined);
  const d: Diagnostic = { file: "<text>", line: 3, column: 3, severity: "error", message: "stack limit", sourceLine: "  char big[600];" };
  const e = new DialectError([d, { ...d }, { ...d }]);
  assert.equal(e.diagnostics.length, 1);
  assert.equal(e.message.match(/stack limit/g)!.length, 1);
});

test("tracing privileges are judged from CapEff: root's mask, CAP_BPF+CAP_PERFMON, CAP_SYS_ADMIN, nothing", () => {
  const bit = (n: number) => 1n << BigInt(n);
  assert.deepEqual(missingTracingCapabilities(0x1ffffffffffn), []);
  assert.deepEqual(missingTracingCapabilities(bit(38) | bit(39)), []);
  assert.deepEqual(missingTracingCapabilities(bit(21)), []);
  assert.deepEqual(missingTracingCapabilities(bit(39)), ["CAP_PERFMON"]);
  assert.deepEqual(missingTracingCapabilities(0n), ["CAP_BPF", "CAP_PERFMON"]);
  assert.throws(() => requireTracingPrivileges("tool", 0n), (e: unknown) =>
    e instanceof PrivilegeError && e.code === ErrorCode.PERMISSION && /^tool: tracing needs root, or CAP_BPF and CAP_PERFMON/.test(e.message));
  assert.equal(effectiveCapabilities("Name:\tx\nCapEff:\t000001ffffffffff\n"), 0x1ffffffffffn);
  assert.equal(effectiveCapabilities("no caps line"), undefined);
});

test("declarations are found in the user's source: maps, functions and the probe macros that make them", () => {
  const source = { file: "p.c", text: "// x\nBPF_HASH(counts, u32, u64, 1024);\nBPF_TABLE(\"array\", int, u64, tab, 8);\n" +
    "RAW_TRACEPOINT_PROBE(sched_switch) { return 0; }\nTRACEPOINT_PROBE(syscalls, sys_enter_read) { return 0; }\nint kprobe__foo(void *ctx) { return 0; }\n" };
  assert.equal(declarationLine(source, { map: "counts" })?.line, 2);
  assert.equal(declarationLine(source, { map: "tab" })?.line, 3);
  assert.equal(declarationLine(source, { fn: "raw_tracepoint__sched_switch" })?.line, 4);
  assert.equal(declarationLine(source, { fn: "tracepoint__syscalls__sys_enter_read" })?.line, 5);
  assert.equal(declarationLine(source, { fn: "kprobe__foo" })?.line, 6);
  assert.equal(declarationLine(source, { map: "nothere" }), undefined);
});

test("origin: program errors say whose embedded program it is; other errors are left alone", () => {
  const compile = attributed(new TsbccError(ErrorCode.COMPILE, "<text>:3:1: error: x"), "tsbcc's execsnoop tool") as TsbccError;
  assert.match(compile.message, /^in the BPF program embedded in tsbcc's execsnoop tool \(not code you wrote/);
  assert.equal((compile as { origin?: string }).origin, "tsbcc's execsnoop tool");
  const arg = attributed(new TsbccError(ErrorCode.BAD_ARGUMENT, "x: bad"), "tsbcc's execsnoop tool") as TsbccError;
  assert.equal(arg.message, "x: bad");
});
