// Runs inside the VM guest (see docs/VM.md): a process that attached a PMU kprobe and a maxactive kretprobe
// (tracefs kprobe_events) is killed with SIGTERM, SIGINT and SIGKILL; afterwards no kprobe of ours remains and its
// program is unloaded. SIGTERM/SIGINT clean up in the process (cleanup registry); after SIGKILL the tracefs entry
// is left for the next tsbcc process, whose first kprobe attach removes entries of dead pids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { listPrograms } from "../../../src/kernel/programs.js";
import { ourKprobeEvents, removeStaleKprobeEvents } from "../../../src/link/index.js";

const HOLDER = fileURLToPath(new URL("./fixtures/probe-holder.js", import.meta.url));
const KPROBE_EVENTS = "/sys/kernel/tracing/kprobe_events";
const KPROBE_LIST = "/sys/kernel/debug/kprobes/list";

function kprobesOf(pid: number): string[] {
  const events = readFileSync(KPROBE_EVENTS, "utf8").split("\n").filter((l) => l.includes(`_${pid} `) && /tsbcc\//.test(l));
  const pmu = existsSync(KPROBE_LIST) ? readFileSync(KPROBE_LIST, "utf8").split("\n").filter((l) => /\s\w*sys_get(ppid|pgrp)(\+0x[0-9a-f]+)?(\s|$)/.test(l)) : [];
  return [...events, ...pmu];
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

async function startHolder(): Promise<{ pid: number; prog: string; exited: Promise<string> }> {
  const child = spawn(process.execPath, [HOLDER], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<string>((resolve) => child.on("exit", (code, sig) => resolve(sig ?? `code ${code}`)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    void exited.then((how) => reject(new Error(`holder exited early (${how}): ${out}`)));
  });
  const m = line.match(/^ready (\S+)$/);
  assert.ok(m, `holder said ${JSON.stringify(line)}`);
  return { pid: child.pid!, prog: m[1]!, exited };
}

for (const signal of ["SIGTERM", "SIGINT", "SIGKILL"] as const) {
  test(`after ${signal}, no kprobe of a killed tsbcc process remains and its program is gone`, { timeout: 180_000 }, async (t) => {
    if (process.env.TSBCC_VM !== "1") {
      t.skip("not inside the VM guest");
      return;
    }
    const h = await startHolder();
    const probes = kprobesOf(h.pid);
    assert.ok(probes.some((l) => /^r8:tsbcc\/r___x64_sys_getpgrp_\d+ __x64_sys_getpgrp$/.test(l)), `maxactive kretprobe registered: ${probes.join(" | ")}`);
    // The kprobe list names probes by their address's primary symbol (__do_sys_getpgrp for __x64_sys_getpgrp).
    assert.ok(!existsSync(KPROBE_LIST) || probes.some((l) => /\s__do_sys_getpgrp\+/.test(l)), `kretprobe listed: ${probes.join(" | ")}`);
    assert.ok(listPrograms().some((p) => p.name === h.prog), "program loaded");

    process.kill(h.pid, signal);
    assert.equal(await h.exited, signal, "killed by the signal (re-raised after cleanup for SIGTERM/SIGINT)");
    if (signal === "SIGKILL") {
      // Nothing ran in the child: its tracefs probe is still there until a tsbcc process sweeps it.
      assert.ok(ourKprobeEvents().some((e) => e.pid === h.pid), "SIGKILL leaves the tracefs entry");
      assert.ok(removeStaleKprobeEvents(true).some((n) => n.endsWith(`_${h.pid}`)), "the startup sweep removes it");
    }
    assert.ok(await until(() => kprobesOf(h.pid).length === 0, 10_000), `left behind: ${kprobesOf(h.pid).join(" | ")}`);
    assert.ok(await until(() => !listPrograms().some((p) => p.name === h.prog), 10_000), "program unloaded");
  });
}
