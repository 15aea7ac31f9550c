// Tier 2: trace's kernel-struct expressions, -I and -s. A tracepoint's pointer cast to its kernel struct (BTF):
// net:net_dev_queue's skbaddr as struct sk_buff gives the device name "lo" and the length of the child's one UDP
// datagram (123 bytes + UDP 8 + IPv4 20 + Ethernet 14 = 165); $task and an explicit task_struct cast reach the
// child's executable name through mm->exe_file and its comm. -I adds a header from disk (its macro scales the
// printed value; changing the file changes the output, so the compile cache follows the header) and a kernel
// header name. -s records user stacks by build-id: read after the child has exited, they still name its functions
// (without -s those frames are unknown). BCC's signature names a uprobe's arguments; a kprobe program casting its
// arguments to kernel structs (needs kprobes to attach) compiles and passes the verifier here. Wrong -I/-s input
// is a usage error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/trace.js";
import { BPF } from "../../src/index.js";
import { parseTraceProbe, traceProgram } from "../../src/tools/lib/trace-program.js";
import type { ProbePlan } from "../../src/tools/lib/probe-spec.js";
import { trace } from "../../src/tools/index.js";
import { requireTool } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip, collect } from "../helpers/tool-run.js";
import { caller } from "../helpers/usertrace-targets.js";

requireTool("gcc", "gcc");
const skip = await toolSkip();
const N = 3;

/** A node child that, after a byte on stdin, sends one 123-byte UDP datagram to its own socket on 127.0.0.1. */
const UDP_SENDER = `const d = require("dgram"); const r = d.createSocket("udp4");
r.bind(0, "127.0.0.1", () => process.stdin.once("data", () => { const s = d.createSocket("udp4");
  s.send(Buffer.alloc(123), r.address().port, "127.0.0.1", () => r.once("message", () => { s.close(); r.close(); process.stdin.destroy(); })); }));`;

test("trace: a tracepoint pointer cast to struct sk_buff (BTF): device name and length of the child's datagram", { skip }, async () => {
  const child = pausedChild(process.execPath, ["-e", UDP_SENDER]);
  const skb = "((struct sk_buff *)args->skbaddr)";
  const stream = await trace({ pid: child.pid, duration: 20, maxEvents: 1,
    probes: [`t:net:net_dev_queue "%s len=%d skb=%d", ${skb}->dev->name, args->len, ${skb}->len`] });
  assert.equal(await child.go(), 0);
  assert.deepEqual((await collect(stream)).map((e) => [e.pid, e.message]), [[child.pid, "lo len=165 skb=165"]]);
});

test("trace: strings through the current task's kernel structs ($task and an explicit cast)", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const stream = await trace({ pid: child.pid, duration: 20, maxEvents: N, probes: [
    't:syscalls:sys_enter_getpid "%s %s", $task->mm->exe_file->f_path.dentry->d_name.name, ((struct task_struct *)bpf_get_current_task())->comm'] });
  assert.equal(await child.go(), 0);
  assert.deepEqual((await collect(stream)).map((e) => e.message), Array(N).fill("tsbcccall tsbcccall"));
});

test("trace -I: a header from disk (its content decides, not the compile cache) and a kernel header name", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-trace-inc-"));
  try {
    const header = join(dir, "scale.h");
    for (const scale of [3, 5]) {
      writeFileSync(header, `#define TSBCC_SCALE ${scale}\n`);
      const child = pausedChild(caller(), [String(N)]);
      const t = startTool(tool, ["-I", header, "-I", "linux/sched.h", "-p", String(child.pid), `p:${caller()}:tsbcc_work "v=%d", arg1 * TSBCC_SCALE`]);
      assert.ok(await t.waitFor(/^PID/), t.err());
      assert.equal(await child.go(), 0);
      await t.waitFor(new RegExp(`v=${N * scale}\\n`), 5000);
      assert.equal(await t.stop(), 0);
      assert.deepEqual(t.out().trim().split("\n").slice(1).map((l) => l.split(/ +/).pop()), [1, 2, 3].map((i) => `v=${i * scale}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("trace -U -s FILE: build-id stacks name the child's functions after it exited (unknown without -s)", { skip }, async () => {
  const frames: Record<string, string[][]> = {};
  for (const mode of ["plain", "sym"]) {
    const child = pausedChild(caller(), [String(N)]);
    const stream = await trace({ userStack: true, duration: 20, maxEvents: N, probes: [`p:${caller()}:tsbcc_work "a=%d", arg1`],
      ...(mode === "sym" ? { symFiles: [caller()] } : {}) });
    assert.equal(await child.go(), 0); // exited: its mappings are gone before the events are read
    const evs = (await collect(stream)).filter((e) => e.pid === child.pid);
    assert.deepEqual(evs.map((e) => e.message), ["a=1", "a=2", "a=3"]);
    frames[mode] = evs.map((e) => e.userStack!.frames.slice(0, 3));
  }
  for (const f of frames.sym!) assert.deepEqual(f.map((x) => x.replace(/\+0x[0-9a-f]+/, "")), ["tsbcc_work [tsbcccall]", "tsbcc_driver [tsbcccall]", "main [tsbcccall]"]);
  for (const f of frames.plain!) assert.ok(f.every((x) => x.startsWith("[unknown]")), JSON.stringify(f));
});

test("trace -I / -s: wrong input is a usage error", { skip }, async () => {
  const probe = `p:${caller()}:tsbcc_work`;
  for (const [argv, why] of [
    [["-I", "kernel/sched/sched.h", probe], /error: -I\/--include: kernel\/sched\/sched\.h is neither a file nor a kernel header/],
    [["-I", "./no-such-header.h", probe], /error: -I\/--include: \.\/no-such-header\.h: no such file/],
    [["-s", caller(), probe], /error: -s\/--sym_file_list: requires -U/],
    [["-U", "-s", "/nonexistent/lib.so", probe], /error: -s\/--sym_file_list: \/nonexistent\/lib\.so: /],
    [["-U", "-s", "/etc/hostname", probe], /error: -s\/--sym_file_list: \/etc\/hostname: /],
    [["-U", "-s", ",", probe], /error: -s\/--sym_file_list: give one or more files/],
  ] as const) {
    const t = startTool(tool, [...argv]);
    assert.equal(await t.done, 2, `${argv.join(" ")}: ${t.err()}`);
    assert.match(t.err(), why, argv.join(" "));
  }
  await assert.rejects(trace({ probes: [probe], includes: [""] }), /invalid header/);
});

test("trace 'p:BIN:fn(long a, long b) (a >= 2) ...': the signature names the uprobe's arguments", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const stream = await trace({ pid: child.pid, duration: 20, maxEvents: N - 1,
    probes: [`p:${caller()}:tsbcc_work(long a, long b) (a >= 2) "a=%d b=%d", a, b`] });
  assert.equal(await child.go(), 0);
  assert.deepEqual((await collect(stream)).map((e) => e.message), ["a=2 b=20", "a=3 b=30"]);
  await assert.rejects(trace({ probes: [`r:${caller()}:tsbcc_work(long a) "%d", a`] }), /only entry probes \(p:\) take a signature/);
});

test("trace: a kprobe program casting its arguments to kernel structs compiles and loads (attaching needs kprobes)", { skip }, async () => {
  const p = parseTraceProbe('p::tcp_v4_connect(struct sock *sk) (sk->__sk_common.skc_family == 2) "%s %d %s", ' +
    "sk->__sk_common.skc_prot->name, ((struct sock *)arg1)->__sk_common.skc_dport, $task->comm");
  const plan = { spec: { type: "p", library: "", pattern: "tcp_v4_connect", text: p.probe }, targets: [{ name: "tcp_v4_connect", fnName: "probe0_0" }],
    source: { kind: "kprobe", targets: ["tcp_v4_connect"], forced: false } } as unknown as ProbePlan;
  const b = await BPF.load({ text: traceProgram([{ p, plan }], { stringSize: 32 }) });
  try {
    assert.ok(b.loadFunc("probe0_0", BPF.KPROBE).fd > 0);
  } finally {
    b.close();
  }
});
