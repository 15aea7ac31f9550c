// Tier 2: the execsnoop tool traces real exec()s: a program we start shows up with its pid, parent and args.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { tool } from "../../src/tools/execsnoop.js";
import { runTool } from "../../src/tools/lib/tool.js";
import { haveClang } from "../helpers/build.js";

const skip = !haveClang ? "clang is needed" : process.getuid?.() !== 0 ? "needs root" : false;

test("execsnoop prints one line per exec with pid, ppid, return value and arguments", { skip }, async () => {
  let out = "";
  const ac = new AbortController();
  const done = runTool(tool, ["-x"], { out: { write: (s: string) => (out += s) }, err: process.stderr, signal: ac.signal });
  // Wait for the header: the program is compiled, loaded and attached.
  for (let i = 0; i < 300 && !out.includes("PCOMM"); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /^PCOMM +PID +PPID +RET ARGS\n/);
  // The arguments are read from the exec'ing process's memory without page faults (bpf_probe_read_user), so a
  // not-yet-resident page gives an empty argument, as with BCC: run the command up to three times.
  const failing = spawn("/nonexistent/tsbcc", [], { stdio: "ignore" });
  failing.on("error", () => {});
  const pids: number[] = [];
  let line: string | undefined;
  for (let attempt = 0; attempt < 3 && !line; attempt++) {
    const marker = `tsbcc-marker-${process.pid}-${attempt}`;
    const child = spawn("/bin/echo", [marker, "two words"], { stdio: "ignore" });
    pids.push(child.pid!);
    await new Promise((r) => child.on("exit", r));
    for (let i = 0; i < 60 && !new RegExp(`^echo +${child.pid} `, "m").test(out); i++) await new Promise((r) => setTimeout(r, 50));
    line = out.split("\n").find((l) => l.includes(marker));
  }
  for (let i = 0; i < 60 && !out.includes("/nonexistent/tsbcc"); i++) await new Promise((r) => setTimeout(r, 50));
  ac.abort();
  assert.equal(await done, 0);
  assert.ok(line, `no complete line for our exec in:\n${out}`);
  const [comm, pid, ppid, ret, ...args] = line!.trim().split(/\s+/);
  assert.equal(comm, "echo");
  assert.ok(pids.includes(Number(pid)));
  assert.equal(Number(ppid), process.pid);
  assert.equal(ret, "0");
  assert.match(args.join(" "), new RegExp(`^/bin/echo tsbcc-marker-${process.pid}-\\d two words$`));
  const failed = out.split("\n").find((l) => l.includes("/nonexistent/tsbcc"));
  assert.ok(failed, "-x shows failed execs");
  assert.equal(failed!.trim().split(/\s+/)[3], "-2", "ENOENT is the return value");
});

test("the tsbcc command (bundled) runs execsnoop and exits cleanly after --duration", { skip }, async () => {
  const { fileURLToPath } = await import("node:url");
  const { join, dirname } = await import("node:path");
  const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "tsbcc.mjs");
  const cli = spawn(process.execPath, [bin, "execsnoop", "--duration", "4"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  cli.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  cli.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 200 && !out.includes("PCOMM"); i++) await new Promise((r) => setTimeout(r, 25));
  const marker = `tsbcc-cli-${process.pid}`;
  const pids: number[] = [];
  for (let i = 0; i < 3; i++) {
    // Three runs: an argument page that is not resident reads as empty (see the test above).
    const child = spawn("/bin/echo", [marker], { stdio: "ignore" });
    pids.push(child.pid!);
    await new Promise((r) => child.on("exit", r));
  }
  const code = await new Promise<number | null>((r) => cli.on("exit", r));
  assert.equal(code, 0, out);
  const lines = out.split("\n").filter((l) => new RegExp(`^echo +(${pids.join("|")}) +${process.pid} +0 /bin/echo ${marker}$`).test(l));
  assert.ok(lines.length >= 1, out);
});
