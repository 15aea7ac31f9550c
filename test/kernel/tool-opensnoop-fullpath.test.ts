// Tier 2: opensnoop -F prints relative opens joined to the opener's working directory (read from /proc/PID/cwd
// when the event is read), absolute ones unchanged; without -F the relative path is printed as given.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/opensnoop.js";
import { opensnoop } from "../../src/tools/index.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

/**
 * A shell in `cwd` that, once it reads a line, opens "present.txt", "sub/../present.txt" and "missing.txt"
 * itself (redirections of the "true" builtin, no fork; a failed one does not end the shell) and then stays alive,
 * like a long-lived process, until `finish()` (-F reads the cwd from /proc/PID when the event is printed: a fixed
 * lifetime could end first on a loaded machine).
 */
function shellIn(cwd: string, absolute: string): { pid: number; go(): void; finish(): Promise<number> } {
  const script = `read x; true < present.txt; true < sub/../present.txt; true 2>/dev/null < missing.txt; true < ${absolute}; read y`;
  const child = spawn("/bin/sh", ["-c", script], { cwd, stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return {
    pid: child.pid!,
    go() {
      child.stdin!.write("go\n");
    },
    finish() {
      if (!child.stdin!.writableEnded) child.stdin!.end("done\n");
      return exited;
    },
  };
}

function fixture(): { dir: string; absolute: string } {
  // realpath: /proc/PID/cwd shows the resolved directory (tmpdir may be a symlink).
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "tsbcc-opensnoop-F-")));
  writeFileSync(join(dir, "present.txt"), "x");
  mkdirSync(join(dir, "sub"));
  const absolute = join(dir, "absolute.txt");
  writeFileSync(absolute, "y");
  return { dir, absolute };
}

test("opensnoop -F prints a child's relative opens as <its cwd>/<path>; absolute paths stay as they are", { skip }, async () => {
  const { dir, absolute } = fixture();
  try {
    const child = shellIn(dir, absolute);
    const t = startTool(tool, ["-F", "-p", String(child.pid)]);
    assert.ok(await t.waitFor(/PATH\n/), t.err());
    child.go();
    const exited = t.done.then(() => child.finish(), () => child.finish()); // the shell lives until the tool ends
    assert.ok(await t.waitFor(new RegExp(`${absolute}$`, "m")), t.out());
    assert.equal(await t.stop(), 0);
    const paths = t.out().split("\n").slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/));
    const byPath = new Map(paths.map((f) => [f.slice(4).join(" "), f]));
    const present = byPath.get(`${dir}/present.txt`);
    assert.ok(present, `full path of present.txt in:\n${t.out()}`);
    assert.ok(Number(present[2]) >= 0, "opened");
    assert.ok(byPath.has(`${dir}/sub/../present.txt`), `the path as given, joined to the cwd, not normalized:\n${t.out()}`);
    const missing = byPath.get(`${dir}/missing.txt`);
    assert.ok(missing, t.out());
    assert.deepEqual(missing.slice(2, 4), ["-1", "2"], "ENOENT");
    assert.ok(byPath.has(absolute), "absolute unchanged");
    assert.ok(!paths.some((f) => f[4] === "present.txt"), "no relative path left");
    assert.equal(await exited, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("opensnoop without -F prints the relative path as the process gave it (library: fullPath option)", { skip }, async () => {
  const { dir, absolute } = fixture();
  try {
    // The paths a shell in `dir` opens, up to its last (absolute) one, through the library.
    const pathsSeen = async (fullPath: boolean): Promise<string[]> => {
      const child = shellIn(dir, absolute);
      const stream = await opensnoop({ pid: child.pid, fullPath, duration: 30 });
      child.go();
      const seen: string[] = [];
      for await (const ev of stream) {
        seen.push(ev.path);
        if (ev.path === absolute) break;
      }
      assert.equal(await child.finish(), 0);
      return seen;
    };
    const relative = await pathsSeen(false);
    assert.ok(relative.includes("present.txt"), relative.join("\n"));
    assert.ok(!relative.includes(`${dir}/present.txt`), relative.join("\n"));
    // The same through the library with fullPath.
    const full = await pathsSeen(true);
    assert.ok(full.includes(`${dir}/present.txt`), full.join("\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
