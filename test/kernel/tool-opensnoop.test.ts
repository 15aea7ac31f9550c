// Tier 2: opensnoop shows a child's opens of our own files with the fd and errno the child itself saw; the
// library function yields the same as typed events; wrong options fail clearly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/opensnoop.js";
import { opensnoop, UsageError } from "../../src/tools/index.js";
import { openFiles } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

function fixture(): { dir: string; file: string; missing: string } {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-opensnoop-"));
  const file = join(dir, "present.txt");
  writeFileSync(file, "x");
  return { dir, file, missing: join(dir, "missing.txt") };
}

test("opensnoop -p PID -e prints the child's opens with its fd, errno and flags", { skip }, async () => {
  const { dir, file, missing } = fixture();
  try {
    const child = pausedChild(openFiles(), [file, missing]);
    const t = startTool(tool, ["-p", String(child.pid), "-e"]);
    assert.ok(await t.waitFor(/PATH\n/), t.err());
    assert.match(t.out(), /^PID    COMM               FD ERR FLAGS    PATH\n/);
    assert.equal(await child.go(), 0);
    const okLine = await t.waitFor(new RegExp(`^.*${missing}$`, "m"));
    assert.equal(await t.stop(), 0);
    assert.ok(okLine, t.out());
    const lines = t.out().split("\n").filter((l) => l.endsWith(file) || l.endsWith(missing));
    assert.equal(lines.length, 2, t.out());
    const present = lines[0].trim().split(/\s+/);
    assert.equal(Number(present[0]), child.pid);
    assert.ok(Number(present[2]) >= 3, "a real fd");
    assert.equal(present[3], "0");
    assert.equal(present[4], "00000000", "O_RDONLY");
    const absent = lines[1].trim().split(/\s+/);
    assert.deepEqual(absent.slice(2, 4), ["-1", "2"], "ENOENT");
    // Other processes' opens are filtered in the kernel.
    assert.ok(t.out().split("\n").slice(1).filter(Boolean).every((l) => l.trim().startsWith(`${child.pid} `)), t.out());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("opensnoop as a library yields typed events; -x via failed: true keeps only failures", { skip }, async () => {
  const { dir, file, missing } = fixture();
  try {
    const child = pausedChild(openFiles(), [file, missing]);
    const stream = await opensnoop({ pid: child.pid, failed: true, duration: 30 });
    assert.equal(stream.source.kind, "tracepoint");
    const code = child.go();
    let found;
    for await (const ev of stream) {
      assert.equal(ev.pid, child.pid);
      assert.equal(ev.fd, -1, "only failures");
      if (ev.path === missing) {
        found = ev;
        break;
      }
    }
    assert.equal(await code, 0);
    assert.ok(found);
    assert.equal(found.errno, 2);
    assert.equal(found.comm.length > 0, true);
    assert.equal(typeof found.ts, "bigint");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("opensnoop rejects wrong input with a usage error naming it", { skip }, async () => {
  await assert.rejects(opensnoop({ pid: -1 }), (e: unknown) => e instanceof UsageError && /pid/.test((e as Error).message));
  await assert.rejects(opensnoop({ source: "kprobe" }), (e: unknown) => e instanceof UsageError && /--source kprobe/.test((e as Error).message));
  const t = startTool(tool, ["-f", "O_BOGUS"]);
  assert.equal(await t.done, 2);
  assert.match(t.err(), /argument -f\/--flag_filter: unknown open flag 'O_BOGUS'/);
  const t2 = startTool(tool, ["-p"]);
  assert.equal(await t2.done, 2);
  assert.match(t2.err(), /^usage: tsbcc opensnoop/);
  assert.match(t2.err(), /argument -p\/--pid: expected one argument/);
});
