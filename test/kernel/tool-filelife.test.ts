// Tier 2: filelife on the host kernel (syscall tracepoints: FMODE_CREATED opens, unlink matched by name and
// confirmed by the dentry): a file this process creates and deletes 0.5 s later is reported with its age.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/filelife.js";
import { filelife, UsageError, type FileLifeEvent } from "../../src/tools/index.js";
import { sleepMs, startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

test("filelife as a library: -p names our file, deleted 0.5 s after creation, with its age", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-filelife-"));
  try {
    const stream = await filelife({ pid: process.pid });
    assert.equal(stream.source.kind, "tracepoint");
    const kept = join(dir, "filelife-kept");
    writeFileSync(kept, "stays");
    const file = join(dir, "filelife-short");
    writeFileSync(file, "x");
    await sleepMs(500);
    unlinkSync(file);
    let found: FileLifeEvent | undefined;
    const seen: string[] = [];
    setTimeout(() => stream.close(), 1500);
    for await (const ev of stream) {
      seen.push(ev.file);
      if (ev.file === "filelife-short") found ??= ev;
    }
    assert.ok(found, `events: ${seen.join(", ")}`);
    assert.equal(found.pid, process.pid);
    assert.ok(found.ageSeconds >= 0.45 && found.ageSeconds < 5, `age ${found.ageSeconds}`);
    assert.ok(!seen.includes("filelife-kept"), "a file not deleted is not reported");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("filelife CLI: BCC's header and the line for a file a child creates and removes; wrong input", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-filelife-"));
  try {
    const t = startTool(tool, []);
    assert.ok(await t.waitFor(/FILE\n/), t.err());
    assert.ok(t.out().startsWith("TIME     PID     COMM             AGE(s)  FILE\n"), t.out()); // the whole machine is traced: others may follow
    const f = join(dir, "filelife-cli");
    const { spawnSync } = await import("node:child_process");
    assert.equal(spawnSync("sh", ["-c", `: > ${f}; sleep 0.3; rm ${f}`]).status, 0);
    const line = await t.waitFor(/^.* filelife-cli\n/m);
    assert.equal(await t.stop(), 0);
    assert.ok(line, t.out());
    const [time, pid, comm, age, name] = line[0].trim().split(/\s+/);
    assert.match(time, /^\d\d:\d\d:\d\d$/);
    assert.ok(Number(pid) > 0);
    assert.equal(comm, "rm");
    assert.ok(Number(age) >= 0.25 && Number(age) < 5, age);
    assert.equal(name, "filelife-cli");
    await assert.rejects(filelife({ pid: -3 }), UsageError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
