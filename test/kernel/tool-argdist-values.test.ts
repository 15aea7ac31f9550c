// Tier 2: argdist's char* values, $latency, $entry(param) and multi-expression keys against a test binary whose
// calls are known: puts("alpha") 3 times and puts("beta") 5 times (libc uprobe, char* keys counted exactly),
// usleep(3000 + i) for i = 0..3 (uretprobe: $latency puts all 4 calls at >= 3 ms; $entry(us) gives each value),
// and tsbcc_work(i, i*10) of the caller binary (a two-expression key, each pair once). Wrong specifiers: exit 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/argdist.js";
import { argdist, type CounterMetric, type HistogramMetric } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { buildTarget, caller, loadedSince, progCount } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const SLEEPS = 4;

// The strings are read once before the uprobes fire: a uprobe cannot fault a page in, so a never-touched
// .rodata page would read as "" (BCC has the same limit).
const talker = (): string => buildTarget("tsbccargs", `#include <unistd.h>
#include <stdio.h>
#include <string.h>
static void wait_go(void) { char c; if (read(0, &c, 1) < 0) _exit(2); }
int main(void) {
  const char *volatile a = "alpha", *volatile b = "beta";
  volatile int touch = a[0] + b[0];
  wait_go();
  for (int i = 0; i < 3; i++) puts("alpha");
  for (int i = 0; i < 5; i++) puts("beta");
  for (int i = 0; i < ${SLEEPS}; i++) usleep(3000 + i);
  return touch == 'a' + 'b' ? 0 : 1;
}
`);

test("argdist -C char* and -H $latency: each string counted exactly, every sleep in a row >= 3 ms", { skip }, async () => {
  const child = pausedChild(talker(), []);
  const before = progCount();
  const t = startTool(tool, ["-p", String(child.pid), "-i", "30", "-C", "p:c:puts(char *s):char*:s", "-H", "r:c:usleep():u64:$latency#usleep ns"]);
  await loadedSince(before);
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0, t.err());
  const out = t.out();
  assert.match(out, /p:c:puts\(char \*s\):char\*:s\n\tCOUNT {6}EVENT\n\t3 {10}s = alpha\n\t5 {10}s = beta\n/, out);
  assert.match(out, /\n {5}usleep ns +: count {5}distribution\n/, out);
  const rows = [...out.matchAll(/^ +(\d+) -> (\d+) +: (\d+) +\|/gm)].filter((m) => Number(m[3]) > 0);
  assert.equal(rows.reduce((n, m) => n + Number(m[3]), 0), SLEEPS, out);
  for (const m of rows) assert.ok(Number(m[2]) >= 3_000_000, `row ${m[1]} -> ${m[2]} ns holds a sleep of >= 3 ms:\n${out}`);
});

test("argdist as a library: $entry(param) values, a two-expression key, default return value", { skip }, async () => {
  const child = pausedChild(talker(), []);
  const work = pausedChild(caller(), ["4"]);
  const stream = await argdist({ pid: child.pid, interval: 30, counts: ["r:c:usleep(u32 us):u32,int:$entry(us),$retval", "r:c:usleep()"],
    histograms: ["r:c:usleep(u32 us):u64:$latency / $entry(us)"] });
  const pairs = await argdist({ pid: work.pid, interval: 30, counts: [`p:${caller()}:tsbcc_work(long a, long b):long,long:a,b:b >= 20`] });
  await Promise.all([child.go(), work.go()]);
  stream.close();
  pairs.close();
  const [perUs, entry, ret] = (await first(stream)).metrics; // histograms first, then counts
  assert.deepEqual((entry as CounterMetric).series.map((s) => `${s.labels.value}/${s.labels.value2}/${s.value}`).sort(), ["3000/0/1", "3001/0/1", "3002/0/1", "3003/0/1"]);
  assert.deepEqual((ret as CounterMetric).series.map((s) => [s.labels.value, s.value]), [["0", SLEEPS]]);
  // ns per requested us: at least 1000 for every call.
  const h = perUs as HistogramMetric;
  assert.equal(h.series[0]!.count, SLEEPS);
  assert.ok(h.series[0]!.buckets.every((b) => b.count === 0 || b.high >= 1000), JSON.stringify(h.series[0]!.buckets));
  const keyed = (await first(pairs)).metrics[0] as CounterMetric;
  assert.deepEqual(keyed.series.map((s) => `${s.labels.value},${s.labels.value2}=${s.value}`).sort(), ["2,20=1", "3,30=1", "4,40=1"]);
});

async function first<T>(stream: AsyncIterable<T>): Promise<T> {
  for await (const r of stream) return r;
  throw new Error("no report");
}

test("argdist: wrong char*, $latency and multi-expression specifiers are usage errors", { skip }, async () => {
  for (const spec of [
    ["-H", "p:c:puts(char *s):char*:s"], // histograms need numbers
    ["-H", "p:c:usleep(u32 us):u64:$latency"], // $latency only in return probes
    ["-C", "r:c:usleep(u32 us):u32:$entry(nope)"], // not a parameter
    ["-C", "p:c:write(int fd, size_t n):int,size_t:fd"], // 2 types, 1 expression
    ["-H", "p:c:write(int fd, size_t n):int,size_t:fd,n"], // a histogram has one expression
    ["-H", "p:c:write(int fd)"], // a histogram of an entry needs an expression
    ["-z", "0", "-C", "p:c:puts(char *s):char*:s"],
  ]) {
    const t = startTool(tool, spec);
    assert.equal(await t.done, 2, `${spec.join(" ")}: ${t.err()}`);
    assert.match(t.err(), /error: /);
  }
  await assert.rejects(argdist({ counts: ["p:c:puts(char *s):char*:s"], stringSize: 100000 }), /stringSize must be/);
});
