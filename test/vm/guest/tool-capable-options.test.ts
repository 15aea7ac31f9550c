// Runs inside the VM guest (see docs/VM.md), whose kernel has kprobes: capable's -x and --unique on exact counts.
// A root perl calls setuid(0) 5 times (each one CAP_SETUID check made by a setid call: INSETID 1) and chowns a file
// back and forth 6 times (each one CAP_CHOWN check, INSETID 0). -x shows all 11 with TID and INSETID; --unique shows
// each (process, capability) once; with --cgroupmap it keys by cgroup, so a second process in the cgroup adds nothing
// for a capability already seen there. The test's own process (where the tool runs) is left out, as in BCC.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { capable, tool, type CapabilityEvent } from "../../../src/tools/capable.js";
import { haveKprobes } from "../../../src/kernel/features.js";
import { startTool, type RunningTool } from "../../helpers/tool-run.js";
import { cgroup2Dir, cgroup2Root, mountBpffs, waitingShell } from "../../helpers/task-filter.js";
import { requireTool } from "../../helpers/build.js";

requireTool("bpftool", "bpftool");

const SETUIDS = 5;
const CHOWNS = 6;
const FILE = "/tmp/tsbcc-capable-options";
const PERL = ["perl", "-MPOSIX", "-e", `my $f = shift; POSIX::setuid(0) for 1..${SETUIDS}; for (1..${CHOWNS / 2}) { chown 65534, -1, $f; chown 0, -1, $f; }`, FILE];
const noKprobes = process.env.TSBCC_VM !== "1" ? "not inside the VM guest" : !haveKprobes().supported && `no kprobes: ${haveKprobes().reason}`;

function runPerl(): Promise<number> {
  const p = spawn(PERL[0]!, PERL.slice(1), { stdio: "ignore" });
  return new Promise((resolve, reject) => p.on("exit", (code) => (code === 0 ? resolve(p.pid!) : reject(new Error(`perl exited ${code}`)))));
}

/** The lines of `pid` (a -x line: TIME UID PID TID COMM CAP NAME AUDIT INSETID VERDICT) by capability name. */
function linesOf(t: RunningTool, pid: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of t.out().split("\n")) {
    const f = line.split(/ +/);
    if (f[2] === String(pid)) (out[f[6]!] ??= []).push(f.slice(1).join(" "));
  }
  return out;
}

async function waitForLines(t: RunningTool, pid: number, setuid: number, chown: number): Promise<void> {
  const end = Date.now() + 60000;
  while (Date.now() < end) {
    const l = linesOf(t, pid);
    if ((l.CAP_SETUID?.length ?? 0) >= setuid && (l.CAP_CHOWN?.length ?? 0) >= chown) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 1000)); // anything more (a repeat that should not be there) would show by now
}

test("capable -x: TID and INSETID columns; setuid's checks are INSETID 1, chown's 0, all 11 counted", { skip: noKprobes }, async () => {
  writeFileSync(FILE, "x");
  const t = startTool(tool, ["-x"]);
  assert.ok(await t.waitFor(/VERDICT\n/, 60000), t.err());
  assert.equal(t.out(), "TIME      UID    PID    TID    COMM             CAP  NAME                 AUDIT  INSETID VERDICT\n");
  const pid = await runPerl();
  await waitForLines(t, pid, SETUIDS, CHOWNS);
  assert.equal(await t.stop(), 0);
  const l = linesOf(t, pid);
  assert.deepEqual(l.CAP_SETUID, Array(SETUIDS).fill(`0 ${pid} ${pid} perl 7 CAP_SETUID 1 1 allow`), t.out());
  assert.deepEqual(l.CAP_CHOWN, Array(CHOWNS).fill(`0 ${pid} ${pid} perl 0 CAP_CHOWN 1 0 allow`), t.out());
  assert.deepEqual(linesOf(t, process.pid), {}, "the tool's own checks (perf_event_open's CAP_PERFMON...) are left out");
});

test("capable -x --unique: each process's CAP_SETUID and CAP_CHOWN once (a second process has its own)", { skip: noKprobes }, async () => {
  writeFileSync(FILE, "x");
  const t = startTool(tool, ["-x", "--unique"]);
  assert.ok(await t.waitFor(/VERDICT\n/, 60000), t.err());
  const first = await runPerl();
  await waitForLines(t, first, 1, 1);
  const second = await runPerl();
  await waitForLines(t, second, 1, 1);
  assert.equal(await t.stop(), 0);
  for (const pid of [first, second]) {
    const l = linesOf(t, pid);
    assert.deepEqual([l.CAP_SETUID, l.CAP_CHOWN], [[`0 ${pid} ${pid} perl 7 CAP_SETUID 1 1 allow`], [`0 ${pid} ${pid} perl 0 CAP_CHOWN 1 0 allow`]], t.out());
  }
});

test("capable --unique --cgroupmap: keyed by cgroup, a second process in it repeats nothing; its new capability shows", {
  skip: noKprobes || (!cgroup2Root() && "no cgroup v2 mount"),
}, async () => {
  writeFileSync(FILE, "x");
  const fs = mountBpffs();
  const cg = cgroup2Dir(`tsbcc-capable-unique-${process.pid}`);
  try {
    const ac = new AbortController();
    const stream = await capable({ cgroupMap: fs.pinIdSet("cgset", [cg.id]), unique: true, signal: ac.signal, duration: 120 });
    // The first only sets its uid; the second does that too (seen in this cgroup), then chowns (new here).
    const setuidOnly = ["perl", "-MPOSIX", "-e", `POSIX::setuid(0) for 1..${SETUIDS};`];
    const ran: number[] = [];
    for (const cmd of [setuidOnly, PERL]) {
      const sh = waitingShell(cmd);
      writeFileSync(`${cg.dir}/cgroup.procs`, String(sh.child.pid));
      await sh.go();
      ran.push(sh.child.pid!);
    }
    const seen: CapabilityEvent[] = [];
    for await (const ev of stream) {
      seen.push(ev);
      if (ev.pid === ran[1] && ev.capName === "CAP_CHOWN") setTimeout(() => ac.abort(), 1000);
    }
    const text = seen.filter((e) => /^CAP_(SETUID|CHOWN)$/.test(e.capName)).map((e) => `${e.pid} ${e.capName} ${e.insetid}`).sort();
    assert.deepEqual(text, [`${ran[0]} CAP_SETUID true`, `${ran[1]} CAP_CHOWN false`].sort(), seen.map((e) => `${e.pid} ${e.comm} ${e.capName}`).join(", "));
  } finally {
    await cg.remove();
    fs.done();
  }
});
