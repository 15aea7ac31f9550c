// Temporary work directories (a compile's input copies, AST dump, object): `$TMPDIR/tsbcc-w<pid>-XXXXXX`.
//
// mkdtemp makes them 0700 under an unpredictable name, so nobody else can plant anything in them. A compile
// killed before its cleanup leaves one behind; the pid in the name lets the next compile remove those whose
// process is gone (only our own: another user's are not ours to judge).

import { lstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { euid, listDir, pidAlive } from "./private-files.js";

const WORK_RE = /^tsbcc-w(\d+)-[A-Za-z0-9]{6}$/;

/** A fresh private work directory; remove it with removeWorkDir. */
export function makeWorkDir(): string {
  return mkdtempSync(join(tmpdir(), `tsbcc-w${process.pid}-`));
}

export function removeWorkDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Removes our work directories whose process no longer runs; returns their paths. */
export function sweepWorkDirs(): string[] {
  const root = tmpdir();
  const removed: string[] = [];
  for (const name of listDir(root)) {
    const m = WORK_RE.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    const path = join(root, name);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || st.uid !== euid()) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}
