// Tier 2: Node.js, natively. A real `node --perf-basic-prof` process runs a hot JS function that makes fstat
// syscalls; its JS function name symbolizes from its perf map (read again as it grows, since the function is
// compiled after we first look), and from user stacks the kernel records at raw_syscalls:sys_enter, where the JS
// frames sit among node's and libc's native frames.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BPF } from "../../src/api/bpf.js";
import { Symbolizer } from "../../src/symbols/index.js";
import { haveClang } from "../helpers/build.js";

const skip = process.getuid?.() !== 0 ? "needs root" : !haveClang ? "clang is needed" : false;

const HOT_JS = `const fs = require("fs");
function tsbccHotJs(n) { let s = 0; for (let i = 0; i < n; i++) s += fs.fstatSync(0).mode + (i & 3); return s; }
let total = 0; setTimeout(() => setInterval(() => { total += tsbccHotJs(200); }, 1), 800);`;

/** Starts the hot JS process in a scratch folder (V8 writes an isolate log next to it); kill() also removes it. */
function startNode() {
  const cwd = mkdtempSync(join(tmpdir(), "tsbcc-node-"));
  const child = spawn(process.execPath, [
    "--perf-basic-prof", "--interpreted-frames-native-stack",
    "--no-turbo-inlining", // else TurboFan may inline the hot function into its caller, leaving it no frame of its own
    "-e", HOT_JS,
  ], { stdio: "ignore", cwd });
  if (child.pid === undefined) throw new Error("cannot start node");
  return {
    pid: child.pid,
    kill(): void {
      child.kill();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

function perfMapPath(pid: number): string {
  const nsPid = /^NStgid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"))![1]!.trim().split(/\s+/).pop();
  return `/proc/${pid}/root/tmp/perf-${nsPid}.map`;
}

/** The perf map's text once V8 has written something to it. */
async function perfMapText(pid: number): Promise<string> {
  for (let i = 0; i < 300; i++) {
    try {
      const text = readFileSync(perfMapPath(pid), "utf8");
      if (text.length > 0) return text;
    } catch { /* not created yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("V8 never wrote its perf map");
}

/** The perf map line naming the hot function, once V8 has written it (the map lives in the child's /tmp). */
async function hotLine(pid: number): Promise<{ start: bigint; size: bigint; name: string }> {
  for (let i = 0; i < 300; i++) {
    let text = "";
    try {
      text = readFileSync(perfMapPath(pid), "utf8");
    } catch { /* not written yet */ }
    const line = text.split("\n").reverse().find((l) => l.includes("tsbccHotJs"));
    if (line) {
      const [start, size, ...name] = line.split(" ");
      return { start: BigInt(`0x${start}`), size: BigInt(`0x${size}`), name: name.join(" ") };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the hot function never appeared in the perf map");
}

test("node --perf-basic-prof: a JS function compiled after the first lookup symbolizes from the grown perf map", { skip }, async () => {
  const child = startNode();
  try {
    const s = new Symbolizer();
    assert.equal(s.rememberProcess(child.pid), true);
    // Read the perf map once while the hot function is not compiled yet (the child waits 800 ms before calling it).
    const map = await perfMapText(child.pid);
    assert.equal(s.sym(1n, child.pid), "[unknown]");
    assert.ok(!map.includes("tsbccHotJs"), "the perf map was read before the hot function was compiled");
    const hot = await hotLine(child.pid);
    const inside = hot.start + hot.size / 2n;
    assert.equal(s.sym(inside, child.pid), hot.name);
    assert.match(s.sym(inside, child.pid, { showOffset: true, showModule: true }), /tsbccHotJs.*\+0x[0-9a-f]+ \[perf-\d+\.map\]$/);
    assert.equal(s.symName(hot.name, child.pid), hot.start);
    // Native code of the same process resolves from the node binary.
    assert.equal(s.sym(s.symName("uv_run", child.pid) + 1n, child.pid), "uv_run");
  } finally {
    child.kill();
  }
});

test("node --perf-basic-prof: sampled user stacks show the JS function among native frames", { skip }, async () => {
  const child = startNode();
  try {
    await hotLine(child.pid);
    const b = await BPF.load({
      text: `
BPF_STACK_TRACE(stacks, 1024);
BPF_HASH(counts, int, u64);
TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
    if ((bpf_get_current_pid_tgid() >> 32) != ${child.pid}) return 0;
    int id = stacks.get_stackid(args, BPF_F_USER_STACK);
    counts.increment(id);
    return 0;
}`,
    });
    try {
      let hit: string[] | undefined;
      const seen: string[] = [];
      for (let round = 0; round < 50 && !hit; round++) {
        await new Promise((r) => setTimeout(r, 100));
        for (const [id] of b.table("counts").entries()) {
          const frames = b.stackSymbols("stacks", Number(id), { pid: child.pid, showModule: true });
          if (frames.some((f) => f.includes("tsbccHotJs"))) hit = frames;
          else if (round === 49) seen.push(frames.join(" | "));
        }
      }
      assert.ok(hit, `a stack through tsbccHotJs was recorded; stacks seen:\n${seen.join("\n")}`);
      const js = hit.findIndex((f) => f.includes("tsbccHotJs"));
      assert.match(hit[js]!, /\[perf-\d+\.map\]$/);
      assert.ok(hit.slice(0, js).some((f) => f.endsWith("[node]")), `native node frames above the JS frame: ${hit.join(" | ")}`);
      assert.ok(hit.slice(js + 1).some((f) => f.endsWith("[node]")), `native node frames below the JS frame: ${hit.join(" | ")}`);
    } finally {
      b.close();
    }
  } finally {
    child.kill();
  }
});
