// Tier 2: mountsnoop shows a tmpfs mount and its umount made by a child, decoded as BCC prints them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/mountsnoop.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

test("mountsnoop -P shows mount() and umount() of a tmpfs with flags, data and results", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-mountsnoop-"));
  try {
    const child = pausedChild("/bin/sh", ["-c", `read x; mount -t tmpfs -o ro,size=1m tsbcc-test ${dir} && umount ${dir}`]);
    const t = startTool(tool, ["-P"]);
    assert.ok(await t.waitFor(/CALL\n/), t.err());
    assert.ok(t.out().startsWith("COMM             PID     TID     PCOMM            PPID    MNT_NS      CALL\n"), t.out()); // the whole machine is traced: others may follow
    assert.equal(await child.go(), 0);
    const um = await t.waitFor(new RegExp(`umount\\("${dir}", 0x0\\) = 0$`, "m"));
    assert.equal(await t.stop(), 0);
    assert.ok(um, t.out());
    const ns = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/mnt"))![1];
    const mount = t.out().split("\n").find((l) => l.includes(`mount("tsbcc-test", "${dir}"`));
    assert.ok(mount, t.out());
    assert.match(mount!, new RegExp(`^mount +\\d+ +\\d+ +sh +${child.pid} +${ns} +mount\\("tsbcc-test", "${dir}", "tmpfs", MS_RDONLY, "size=1m"\\) = 0$`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
