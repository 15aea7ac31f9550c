// Tier 2: memleak's BCC options on real workloads. -c runs a test binary (started stopped, so nothing is missed;
// the shell's own allocations before exec are not counted) that leaks N blocks of S bytes from tsbcc_leaky and
// frees F blocks of 777 bytes: -t shows every call with its address, the default and --combined-only reports both
// say N*S bytes in N allocations. A binary that drops N mmap-served blocks with munmap (no free) gets one address
// N times: --combined-only counts N allocations, --wa-missing-free one. --percpu sees a per-CPU array map's
// elements (E of size V: E*V bytes from array_map_alloc). Wrong input is a usage error (exit 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPF, tracepointExists } from "../../src/index.js";
import { tool } from "../../src/tools/memleak.js";
import { memleak } from "../../src/tools/index.js";
import { UsageError } from "../../src/tools/lib/errors.js";
import { haveGcc } from "../helpers/build.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { buildTarget } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const N = 5;
const SIZE = 1000;
const FREED = 4;

const leakAndTidy = (): string => buildTarget("tsbccleakc", `#include <stdlib.h>
#include <string.h>
#include <unistd.h>
void *keep[4096];
__attribute__((noinline)) void tsbcc_leaky(long n, long size) { for (long i = 0; i < n; i++) { keep[i] = malloc(size); memset(keep[i], 1, size); } }
__attribute__((noinline)) void tsbcc_tidy(long n) { for (long i = 0; i < n; i++) { void *p = malloc(777); free(p); } }
int main(int argc, char **argv) { tsbcc_leaky(atol(argv[1]), atol(argv[2])); tsbcc_tidy(atol(argv[3])); usleep(200000); return 0; }
`);

// glibc serves blocks of 200000 bytes with mmap; munmap gives the area back without free(), so the next malloc
// gets the same address: a "missed free" for memleak.
const remapper = (): string => buildTarget("tsbccremap", `#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
__attribute__((noinline)) void *tsbcc_remap(long size) {
  char *p = malloc(size);
  memset(p, 1, size);
  munmap(p - 16, ((size_t *)p)[-1] & ~(size_t)7);
  return p;
}
int main(int argc, char **argv) { for (long i = 0; i < atol(argv[1]); i++) tsbcc_remap(atol(argv[2])); usleep(200000); return 0; }
`);

const leakCommand = (): string => `${leakAndTidy()} ${N} ${SIZE} ${FREED}`;

test("memleak -t -c CMD: every allocator call and free of the command, BCC's messages, ends with the command", { skip }, async () => {
  const cmd = leakCommand();
  const t = startTool(tool, ["-t", "-c", cmd]);
  assert.equal(await t.done, 0, t.err());
  const out = t.out();
  const pid = Number(out.match(new RegExp(`^Executing '${cmd}' and tracing the resulting process\\.\\nAttaching to pid (\\d+), Ctrl\\+C to quit\\.\\n`))?.[1]);
  assert.ok(pid > 0, out);
  const line = (msg: string): RegExp => new RegExp(`^tsbccleakc +${pid} +\\[\\d{3}\\] \\d+\\.\\d{6}: ${msg}$`, "gm");
  const leaked = [...out.matchAll(line(`alloc exited, size = ${SIZE}, result = ([0-9a-f]+)`))].map((m) => m[1]);
  assert.equal(leaked.length, N, out);
  assert.equal(new Set(leaked).size, N, "N distinct addresses");
  assert.equal(out.match(line(`alloc entered, size = ${SIZE}`))?.length, N);
  const tidy = [...out.matchAll(line("alloc exited, size = 777, result = ([0-9a-f]+)"))].map((m) => m[1]);
  const freed = [...out.matchAll(line("free entered, address = ([0-9a-f]+), size = 777"))].map((m) => m[1]);
  assert.equal(freed.length, FREED, out);
  assert.deepEqual(freed, tidy, "each free names the block allocated just before");
  assert.ok(!/\bsh\b|dash/.test(out.split("\n").slice(2).join("\n")), "no call of the shell that started it");
});

test("memleak -c CMD and --combined-only: the same N*S bytes in N allocations from tsbcc_leaky", { skip }, async () => {
  for (const extra of [[], ["--combined-only"]]) {
    const t = startTool(tool, [...extra, "-o", "0", "-c", leakCommand()]);
    assert.equal(await t.done, 0, t.err());
    const last = t.out().slice(t.out().lastIndexOf("Top 10 stacks"));
    const m = last.match(/\t(\d+) bytes in (\d+) allocations from stack\n\t\ttsbcc_leaky\+0x[0-9a-f]+ \[tsbccleakc\]\n\t\tmain\+0x[0-9a-f]+ \[tsbccleakc\]\n/);
    assert.ok(m, `${extra}: ${t.out()}`);
    assert.deepEqual([Number(m[1]), Number(m[2])], [N * SIZE, N], extra.join(" "));
    assert.equal(last.match(/bytes in/g)?.length, 1, `only the leak (not the freed blocks, not the shell's):\n${last}`);
  }
});

test("memleak library: trace events with the command's pid; combinedOnly reports; --wa-missing-free", { skip }, async () => {
  const trace = await memleak({ command: leakCommand(), trace: true });
  const events = [];
  for await (const ev of trace) events.push(ev);
  assert.ok(trace.pid! > 0 && events.every((e) => e.pid === trace.pid && e.comm === "tsbccleakc"), JSON.stringify(events.slice(0, 3)));
  assert.equal(events.filter((e) => e.kind === "alloc-exit" && e.size === SIZE && e.address !== "0x0").length, N);
  assert.equal(events.filter((e) => e.kind === "free" && e.size === 777).length, FREED);

  const remap = [remapper(), "4", "200000"];
  const one = async (o: { waMissingFree?: boolean }): Promise<number[]> => {
    const s = await memleak({ command: remap, combinedOnly: true, interval: 30, ...o });
    let found: number[] = [];
    for await (const r of s) {
      const st = r.stacks.find((x) => x.frames[0]?.startsWith("tsbcc_remap+"));
      if (st) found = [st.bytes, st.allocations];
    }
    return found;
  };
  assert.deepEqual(await one({}), [4 * 200000, 4], "without the workaround every reuse of the address counts");
  assert.deepEqual(await one({ waMissingFree: true }), [200000, 1], "with it the address's old block is dropped");
});

test("memleak --percpu: a per-CPU array map's E elements of V bytes, from array_map_alloc", {
  skip: skip || (!tracepointExists("percpu", "percpu_alloc_percpu") && "no percpu:percpu_alloc_percpu tracepoint on this kernel"),
}, async () => {
  const stream = await memleak({ percpu: true, olderMs: 0, interval: 30 });
  assert.deepEqual(stream.source.targets, ["percpu:percpu_alloc_percpu", "percpu:percpu_free_percpu"]);
  const map = await BPF.load({ text: "struct blob { char c[1000]; };\nBPF_PERCPU_ARRAY(tsbcc_blobs, struct blob, 5);" });
  try {
    stream.close();
    let found;
    for await (const r of stream) found = r.stacks.find((s) => s.frames.some((f) => f.startsWith("array_map_alloc+")) && s.bytes === 5000);
    assert.ok(found, "5 elements of 1000 bytes");
    assert.equal(found.allocations, 5);
    assert.match(found.frames.join("\n"), /bpf_map_alloc_percpu\+0x[0-9a-f]+ \[kernel\]/);
  } finally {
    map.close();
  }
});

test("memleak: wrong -c/--percpu input is a usage error (exit 2), the library's an UsageError", { skip }, async () => {
  const cases: [string[], RegExp][] = [
    [["-c", "/nonexistent/tsbcc-cmd"], /command not found or not executable: \/nonexistent\/tsbcc-cmd/],
    [["-c", "  "], /command must name a program/],
    [["-p", "1", "-c", "true"], /a pid or a command, not both/],
    [["--percpu", "-p", "1"], /percpu traces kernel allocations/],
    [["-t", "-z", "9", "-Z", "1"], /min_size \(-z\) can't be greater than max_size \(-Z\)/],
  ];
  for (const [argv, re] of cases) {
    const t = startTool(tool, argv);
    assert.equal(await t.done, 2, argv.join(" "));
    assert.match(t.err(), re, argv.join(" "));
  }
  await assert.rejects(memleak({ command: [] }), (e: unknown) => e instanceof UsageError && /command must name/.test(e.message));
  await assert.rejects(memleak({ percpu: true, command: "true" }), UsageError);
  await assert.rejects(memleak({ object: "" }), /object must name a library/);
});
