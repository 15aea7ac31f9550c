// Tier 2: biosnoop and bitesize see a child's O_DIRECT writes: one line per 16 KiB write with the child's pid,
// "W" and 16384 bytes; bitesize puts them in the child's "16 -> 31" Kbytes row.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tool as biosnoopTool } from "../../src/tools/biosnoop.js";
import { tool as bitesizeTool } from "../../src/tools/bitesize.js";
import { biosnoop, rwLetter } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { diskOf } from "../helpers/disk.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const where = diskOf("/var/tmp");
const skip = (await toolSkip()) || ("reason" in where && where.reason);
const N = 20;
const ddWrites = (file: string): string[] => ["-c", `read x; exec dd if=/dev/zero of=${file} bs=16k count=${N} oflag=direct,dsync status=none`];

test("biosnoop -d DISK: one line per O_DIRECT write of the child, BCC's columns", { skip }, async () => {
  const { disk } = where as { disk: string };
  const dir = mkdtempSync("/var/tmp/tsbcc-biosnoop-");
  try {
    const child = pausedChild("/bin/sh", ddWrites(join(dir, "data")));
    const t = startTool(biosnoopTool, ["-d", disk, "-Q"]);
    assert.ok(await t.waitFor(/LAT\(ms\)\n/), t.err());
    assert.equal(t.out(), "TIME(s)     COMM           PID     DISK      T SECTOR     BYTES   QUE(ms) LAT(ms)\n");
    assert.equal(await child.go(), 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await t.stop(), 0);
    const mine = t.out().split("\n").filter((l) => new RegExp(`^[\\d.]+ +dd +${child.pid} +${disk} +W +\\d+ +16384 +[\\d.]+ +[\\d.]+$`).test(l));
    assert.ok(mine.length >= N, `${mine.length} lines for ${N} writes:\n${t.out()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bitesize: the child's 16 KiB writes land in its 16 -> 31 Kbytes row", { skip }, async () => {
  const dir = mkdtempSync("/var/tmp/tsbcc-bitesize-");
  try {
    const child = pausedChild("/bin/sh", ddWrites(join(dir, "data")));
    const t = startTool(bitesizeTool, []);
    assert.ok(await t.waitFor(/Hit Ctrl-C to end\.\n/), t.err());
    assert.equal(await child.go(), 0);
    assert.equal(await t.stop(), 0);
    const section = t.out().split("\nProcess Name = ").find((s) => s.startsWith("dd\n"));
    assert.ok(section, t.out());
    const row = /^ +16 -> 31 +: (\d+) +\|/m.exec(section!);
    assert.ok(row && Number(row[1]) >= N, section);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("biosnoop helpers and wrong input", { skip }, async () => {
  assert.equal(rwLetter("FWS"), "W");
  assert.equal(rwLetter("R"), "R");
  assert.equal(rwLetter("F"), "F");
  await assert.rejects(biosnoop({ disk: "nope0" }), /no disk named 'nope0'/);
});
