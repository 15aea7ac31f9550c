// Tier 2 (issue 9, item 5): errors that tell the truth, from the real kernel and clang. Verifier errors carry the
// failing line's text and a hint that matches the verdict; the stack-limit error points at the array, once; raw
// tracepoint, kprobe and map-size errors name the user's line; an embedded program's errors say whose it is; a
// tool run without privileges says root or CAP_BPF/CAP_PERFMON is needed before anything else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BPF } from "../../src/api/bpf.js";
import { ErrorCode, TsbccError } from "../../src/errors.js";
import { VerifierError } from "../../src/loader/index.js";
import { liveFds } from "../../src/sys/index.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "root");
const here = dirname(fileURLToPath(import.meta.url));

async function loadError(text: string, extra: { origin?: string } = {}): Promise<TsbccError> {
  const before = liveFds().size;
  try {
    const b = await BPF.load({ text, ...extra });
    b.close();
  } catch (e) {
    assert.ok(e instanceof TsbccError, String(e));
    assert.equal(liveFds().size, before, "the failed load released everything");
    return e;
  }
  assert.fail("the program loaded");
}

test("a verifier error shows the failing line's text and the NULL-check hint", { skip }, async () => {
  const e = await loadError("BPF_HASH(m, u32, u64);\nint tracepoint__syscalls__sys_enter_getppid(void *ctx) {\n  u32 k = 1;\n" +
    "  u64 *v = m.lookup(&k);\n  return *v;\n}");
  assert.ok(e instanceof VerifierError);
  assert.equal(e.source?.line, 5);
  assert.equal(e.source?.text.trim(), "return *v;");
  assert.match(e.message, /at <text>:5:\d+\n\s+return \*v;/);
  assert.match(e.message, /hint: check the result of a map lookup for NULL/);
});

test("a program too complex for the verifier gets the complexity hint, not the NULL one", { skip, timeout: 120_000 }, async () => {
  const e = await loadError(`BPF_HASH(m, u32, u64);
int tracepoint__syscalls__sys_enter_getppid(void *ctx) {
  u32 k = 1;
  u64 s = 0;
  u64 *v = m.lookup(&k);
  for (int i = 0; i < 1000000; i++) {
    if (bpf_get_prandom_u32() & 1) s += 3; else s ^= i;
    if (v) s += *v;
  }
  return s;
}`);
  assert.ok(e instanceof VerifierError);
  assert.match(e.message, /too complex|too large/);
  assert.match(e.message, /hint: the verifier (gave up|'s budget)/);
  assert.doesNotMatch(e.message, /NULL/);
});

test("the stack-limit error points at the large array, once", { skip }, async () => {
  const e = await loadError("int tracepoint__syscalls__sys_enter_getppid(void *ctx) {\n  char buf[600];\n  buf[0] = 1;\n" +
    "  bpf_probe_read_kernel(buf, sizeof(buf), ctx);\n  return buf[5];\n}");
  assert.equal(e.code, ErrorCode.COMPILE);
  assert.match(e.message, /^<text>:2:3: error: .*stack limit of 512 bytes/);
  assert.equal(e.message.match(/stack limit/g)?.length, 1, e.message);
});

test("raw tracepoint, kprobe and map-size errors name the user's line", { skip }, async () => {
  const raw = await loadError("BPF_HASH(m, u32, u64);\n\nRAW_TRACEPOINT_PROBE(no_such_raw_tp) { return 0; }");
  assert.equal(raw.code, ErrorCode.ATTACH);
  assert.match(raw.message, /at <text>:3\n\s+RAW_TRACEPOINT_PROBE\(no_such_raw_tp\)/);
  const kprobe = await loadError("// probes\nint kprobe__do_nanosleep(void *ctx) { return 0; }");
  assert.ok(kprobe.code === ErrorCode.NO_KPROBES || kprobe.code === ErrorCode.ATTACH, kprobe.message);
  if (kprobe.code === ErrorCode.NO_KPROBES) assert.match(kprobe.message, /at <text>:2\n\s+int kprobe__do_nanosleep/);
  const map = await loadError("BPF_HASH(ok, u32, u64);\nBPF_RINGBUF_OUTPUT(rb, 3);\nint x(void *ctx) { return 0; }");
  assert.equal(map.code, ErrorCode.MAP_CREATE);
  assert.match(map.message, /cannot create map "rb".*\n\s+at <text>:2\n\s+BPF_RINGBUF_OUTPUT\(rb, 3\);/);
});

test("errors in an embedded program say whose program it is", { skip }, async () => {
  const e = await loadError("int x(void *ctx) { return undeclared; }", { origin: "tsbcc's execsnoop tool" });
  assert.equal(e.code, ErrorCode.COMPILE);
  assert.match(e.message, /^in the BPF program embedded in tsbcc's execsnoop tool \(not code you wrote/);
  await assert.rejects(BPF.load({ text: "int x(void *c) { return 0; }", origin: 5 as unknown as string }), /origin: must be a string/);
});

test("tsbcc execsnoop as an unprivileged user says root or CAP_BPF/CAP_PERFMON is needed, before anything else", { skip }, () => {
  const cli = join(here, "..", "..", "src", "cli", "tsbcc.mjs");
  const r = spawnSync(process.execPath, [cli, "execsnoop"], { uid: 65534, gid: 65534, encoding: "utf8", timeout: 30_000, env: { ...process.env, HOME: "/tmp" } });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /tracing needs root, or CAP_BPF and CAP_PERFMON/);
  assert.doesNotMatch(r.stderr, /not mounted|mount -t/);
});

test("tracefs that this user may not read is reported as a permission problem, not as unmounted", { skip }, (t) => {
  const tracefs = join(here, "..", "..", "src", "kernel", "tracefs.js");
  const script = `import(${JSON.stringify(tracefs)}).then((m) => { try { m.tracefsPath(); console.log("OK"); } catch (e) { console.log(e.code + ": " + e.message); } })`;
  const r = spawnSync(process.execPath, ["-e", script], { uid: 65534, gid: 65534, encoding: "utf8", timeout: 30_000 });
  if (r.stdout.startsWith("OK")) {
    t.skip("tracefs is readable by an unprivileged user on this host (not mode 0700)");
    return;
  }
  assert.match(r.stdout, /^PERMISSION: tracefs at \/sys\/kernel\/tracing is mounted but not readable/);
});
