// Tier 2: statsnoop shows a child's stat of our file (success) and of a missing path (ENOENT).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/statsnoop.js";
import { statsnoop } from "../../src/tools/index.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

test("statsnoop -p PID shows the child's stat calls with result and errno", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-statsnoop-"));
  const file = join(dir, "present");
  writeFileSync(file, "x");
  try {
    const child = pausedChild("/bin/sh", ["-c", `read x; exec /usr/bin/stat -c %s ${file} ${dir}/missing`]);
    const t = startTool(tool, ["-p", String(child.pid)]);
    assert.ok(await t.waitFor(/PATH\n/), t.err());
    assert.equal(t.out(), "PID     COMM              RET ERR PATH\n");
    await child.go();
    const missing = await t.waitFor(new RegExp(`^${child.pid} +stat +-1 +2 ${dir}/missing$`, "m"));
    assert.equal(await t.stop(), 0);
    assert.ok(missing, t.out());
    assert.match(t.out(), new RegExp(`^${child.pid} +stat +0 +0 ${file}$`, "m"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("statsnoop as a library names the syscall", { skip }, async () => {
  const child = pausedChild("/bin/sh", ["-c", "read x; exec /usr/bin/stat /"]);
  const stream = await statsnoop({ pid: child.pid, duration: 30 });
  const exited = child.go();
  let found;
  for await (const ev of stream) {
    if (ev.path === "/" && ev.comm === "stat") {
      found = ev;
      break;
    }
  }
  await exited;
  assert.ok(found);
  assert.ok(["statx", "newstat", "newfstatat", "newlstat"].includes(found.syscall), found.syscall);
  assert.equal(found.ret, 0);
});
