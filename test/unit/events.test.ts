// The poll()/consume()/close() contract the event readers share, with a fake reader: its "ring" is an array and
// its wakeups come from a FIFO registered like a ring fd. No BPF, no root (epoll and FIFOs are unprivileged).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PollingReader, pollReaders, type WatchStrategy } from "../../src/events/readiness.js";
import { openPerfBuffer } from "../../src/events/index.js";

class FakeReader extends PollingReader {
  readonly pending: string[] = [];
  readonly delivered: string[] = [];
  released = 0;
  onRecord?: (r: string) => void;
  readonly #fifo: number;
  readonly #scratch = new Uint8Array(64);
  constructor(fifo: number, strategy: WatchStrategy) {
    super(strategy);
    this.#fifo = fifo;
    this.readiness.add(fifo);
  }
  /** Like a producer: the record becomes visible, then the kernel wakes the reader. */
  produce(...records: string[]): void {
    this.pending.push(...records);
    writeSync(this.#fifo, "x");
  }
  protected drain(): number {
    try {
      while (readSync(this.#fifo, this.#scratch) > 0); // level-triggered fds must stop polling readable
    } catch {
      // EAGAIN: nothing to read
    }
    let n = 0;
    while (this.pending.length && !this.closed) {
      const r = this.pending.shift()!;
      this.delivered.push(r);
      n++;
      if (r === "throw") throw new Error("callback failed");
      this.onRecord?.(r);
    }
    return n;
  }
  protected release(): void {
    this.released++;
  }
}

const dir = mkdtempSync(join(tmpdir(), "tsbcc-events-unit-"));
const fifoFds: number[] = [];
function fifo(): number {
  const path = join(dir, `f${fifoFds.length}`);
  execFileSync("mkfifo", [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  fifoFds.push(fd);
  return fd;
}
const opened: FakeReader[] = [];
function fake(strategy: WatchStrategy = "epoll"): FakeReader {
  const r = new FakeReader(fifo(), strategy);
  opened.push(r);
  return r;
}
test.after(() => {
  for (const r of opened) r.close();
  for (const fd of fifoFds) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

const elapsed = async <T>(p: Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const v = await p;
  return [v, performance.now() - t0];
};

for (const strategy of ["epoll", "per-fd"] as const) {
  test(`${strategy}: poll drains what is there first, without waiting`, async () => {
    const r = fake(strategy);
    r.pending.push("a", "b", "c");
    const [n, ms] = await elapsed(r.poll(5000));
    assert.equal(n, 3);
    assert.ok(ms < 1000);
    assert.deepEqual(r.delivered, ["a", "b", "c"]);
  });

  test(`${strategy}: poll times out with 0, poll(0) does not wait`, async () => {
    const r = fake(strategy);
    const [n, ms] = await elapsed(r.poll(60));
    assert.equal(n, 0);
    assert.ok(ms >= 55, `${ms} ms`);
    const [n0, ms0] = await elapsed(r.poll(0));
    assert.equal(n0, 0);
    assert.ok(ms0 < 50);
  });

  test(`${strategy}: a wakeup resolves a waiting poll with what it drained`, async () => {
    const r = fake(strategy);
    setTimeout(() => r.produce("x", "y"), 30);
    const [n, ms] = await elapsed(r.poll(5000));
    assert.equal(n, 2);
    assert.ok(ms >= 25 && ms < 2000, `${ms} ms`);
    assert.deepEqual(r.delivered, ["x", "y"]);
  });

  test(`${strategy}: a wakeup that brings nothing keeps the poll waiting`, async () => {
    const r = fake(strategy);
    setTimeout(() => r.produce(), 10); // fd readable, nothing deliverable (like a BUSY ring record)
    setTimeout(() => r.produce("late"), 80);
    const [n, ms] = await elapsed(r.poll(5000));
    assert.equal(n, 1);
    assert.ok(ms >= 70, `${ms} ms`);
  });

  test(`${strategy}: callbacks never run outside poll/consume`, async () => {
    const r = fake(strategy);
    r.produce("idle");
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(r.delivered, []);
    assert.equal(await r.poll(1000), 1);
  });
}

test("close resolves pending polls with 0, frees once, and later calls fail or return 0", async () => {
  const r = fake();
  const p = r.poll(-1);
  r.close();
  assert.equal(await p, 0);
  assert.equal(r.released, 1);
  r.close();
  assert.equal(r.released, 1);
  assert.equal(r.consume(), 0);
  await assert.rejects(r.poll(10), /closed/);
});

test("close from inside a callback stops the drain and frees only after it", () => {
  const r = fake();
  r.pending.push("a", "b", "c");
  r.onRecord = (x) => {
    if (x === "b") {
      r.close();
      assert.equal(r.released, 0, "not freed while the drain still holds the ring");
    }
  };
  assert.equal(r.consume(), 2);
  assert.equal(r.released, 1);
  assert.deepEqual(r.delivered, ["a", "b"]);
});

test("consume from inside a callback returns 0 instead of re-entering", () => {
  const r = fake();
  let inner = -1;
  r.pending.push("a", "b");
  r.onRecord = () => (inner = r.consume());
  assert.equal(r.consume(), 2);
  assert.equal(inner, 0);
});

test("a throwing callback rejects the poll; the reader keeps working", async () => {
  const r = fake();
  setTimeout(() => r.produce("throw"), 10);
  await assert.rejects(r.poll(5000), /callback failed/);
  r.pending.push("after");
  assert.equal(await r.poll(1000), 1);
});

test("pollReaders: drains all, wakes on any, resolves 0 on timeout or when all are closed", async () => {
  const a = fake(), b = fake("per-fd");
  a.pending.push("a1");
  b.pending.push("b1", "b2");
  assert.equal(await pollReaders([a, b], -1), 3);
  setTimeout(() => b.produce("b3"), 20);
  const [n, ms] = await elapsed(pollReaders([a, b], 5000));
  assert.equal(n, 1);
  assert.ok(ms < 2000);
  assert.equal(await pollReaders([a, b], 30), 0);
  const waiting = pollReaders([a, b], -1);
  a.close();
  b.close();
  assert.equal(await waiting, 0);
});

test("an open, idle reader does not keep the process alive", () => {
  const url = new URL("../../src/events/readiness.js", import.meta.url).href;
  const code = `import(${JSON.stringify(url)}).then(({ PollingReader }) => {
    class R extends PollingReader { drain() { return 0; } release() {} }
    globalThis.kept = new R();
  })`;
  const r = spawnSync(process.execPath, ["-e", code], { timeout: 10_000 });
  assert.equal(r.status, 0, `exited by itself (signal ${r.signal})`);
  // ...while a pending poll(-1) does, like BCC's blocking perf_buffer_poll().
  const waiting = spawnSync(process.execPath, ["-e", code.replace("globalThis.kept = new R();", "new R().poll(-1);")], { timeout: 1500 });
  assert.equal(waiting.signal, "SIGTERM", "still waiting when killed");
});

test("openPerfBuffer rejects a pageCnt that is not a power of two before touching the kernel", () => {
  assert.throws(() => openPerfBuffer(-1, null, { pageCnt: 6 }), { code: "BAD_ARGUMENT", argument: "pageCnt" });
  assert.throws(() => openPerfBuffer(-1, null, { pageCnt: 0 }), /power of two/);
  assert.throws(() => openPerfBuffer(-1, null, { wakeupEvents: 0 }), /wakeupEvents must be a positive integer/);
});
