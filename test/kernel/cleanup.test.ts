// Tier 2: nothing of ours stays in the kernel after close(), SIGINT or SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bpfObject } from "../helpers/build.js";
import { listPrograms } from "../../src/kernel/programs.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "root");
const here = dirname(fileURLToPath(import.meta.url));

function source(progName: string): string {
  return `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tracepoint/sched/sched_switch") int ${progName}(void *ctx) { return 0; }
SEC("raw_tracepoint/sched_wakeup") int ${progName}r(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";`;
}

function ours(name: string): string[] {
  return listPrograms().filter((p) => p.name === name || p.name === name + "r").map((p) => p.name);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGKILL"] as const) {
  test(`after ${signal}, no program or attachment of ours remains`, { skip }, async () => {
    const name = `tsbcc_k${signal.slice(3, 6).toLowerCase()}${process.pid % 1000}`;
    const dir = mkdtempSync(join(tmpdir(), "tsbcc-cleanup-"));
    const objPath = join(dir, "obj.o");
    writeFileSync(objPath, bpfObject(source(name)));
    const child = spawn(process.execPath, [join(here, "fixtures", "attach-and-wait.js"), objPath], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
      child.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    });
    assert.deepEqual(ours(name).sort(), [name, name + "r"], "both programs are loaded while the child runs");
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, sig) => resolve(sig)));
    child.kill(signal);
    assert.equal(await exited, signal, "the child dies by the signal (default behaviour kept)");
    // The kernel frees programs asynchronously (RCU): wait for it, up to 20 s (grace periods stretch under load).
    for (let i = 0; i < 1000 && ours(name).length; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(ours(name), []);
  });
}
