// Private directories: the cache root and everything under it.
//
// A root must be a real directory owned by the running user; it is tightened to 0700. A root that was writable
// by others may hold anything they planted, so tightening one also sweeps it (verifyTree). Below a trusted
// root, every directory component is checked with lstat (ours, not group/world-writable, not a symlink) and a
// bad one is removed and recreated; trees clang reads are verified whole before each cold compile. A root that
// cannot be made private is bypassed with a warning: `$TMPDIR/tsbcc-<uid>`, or a fresh per-process directory
// when that one is someone else's.

import { type Stats, chmodSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { StoreError, euid, fileProblem, listDir, ownedAndClosed, removeUntrusted, tempNameFor, warnStore } from "./private-files.js";

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Why `dir` cannot be a private root, after creating and tightening it; undefined when it now is one. */
function claimRoot(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return `cannot be created (${(err as NodeJS.ErrnoException).code})`;
  }
  const above = ancestorProblem(dir);
  if (above) return above;
  const st = lstatOrUndefined(dir);
  if (!st) return "vanished";
  if (st.isSymbolicLink()) return "is a symbolic link";
  if (!st.isDirectory()) return "is not a directory";
  if (st.uid !== euid()) return `is owned by uid ${st.uid}`;
  if ((st.mode & 0o077) === 0) return undefined;
  try {
    chmodSync(dir, 0o700);
  } catch (err) {
    return `cannot be made private (${(err as NodeJS.ErrnoException).code})`;
  }
  if ((st.mode & 0o022) !== 0) {
    // Others could write here until now: whatever they put inside goes.
    let removed: number;
    try {
      removed = verifyTree(dir);
    } catch (err) {
      return `was writable by others and holds entries that cannot be removed (${(err as Error).message})`;
    }
    warnStore(`${dir} was writable by others (mode ${(st.mode & 0o777).toString(8)}); made private` +
      (removed ? `, ${removed} entr${removed === 1 ? "y" : "ies"} not ours removed` : ""));
  }
  return undefined;
}

/**
 * Why a directory above `dir` would let someone else swap `dir` for their own (after we checked it): a
 * component owned by another user (root aside), or writable by others without the sticky bit (as /tmp has).
 */
function ancestorProblem(dir: string): string | undefined {
  const parts = resolve(dir).split("/").filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i--) {
    const path = `/${parts.slice(0, i).join("/")}`;
    const st = lstatOrUndefined(path);
    if (!st) return `is below ${path}, which cannot be examined`;
    if (st.uid !== euid() && st.uid !== 0) return `is below ${path}, owned by uid ${st.uid}`;
    if (!st.isSymbolicLink() && (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) {
      return `is below ${path}, which others can write (mode ${(st.mode & 0o777).toString(8)}, not sticky)`;
    }
  }
  return undefined;
}

const roots = new Map<string, string>();

/**
 * A private directory for `requested` (a cache root): itself when it is or can be made ours and 0700,
 * else a fallback in the temp directory (with a warning naming why).
 */
export function privateRoot(requested: string): string {
  const known = roots.get(requested);
  if (known) {
    const st = lstatOrUndefined(known);
    if (st?.isDirectory() && st.uid === euid() && (st.mode & 0o077) === 0) return known;
  }
  let dir = requested;
  const why = claimRoot(requested);
  if (why) {
    dir = fallbackRoot();
    warnStore(`cache directory ${requested} ${why}; bypassed, using ${dir}`);
  }
  roots.set(requested, dir);
  return dir;
}

let processRoot: string | undefined;
/** `$TMPDIR/tsbcc-<uid>` when it is ours; else (someone pre-created it) a directory for this process only. */
function fallbackRoot(): string {
  const shared = join(tmpdir(), `tsbcc-${euid()}`);
  const why = claimRoot(shared);
  if (!why) return shared;
  if (processRoot && isPrivateDir(processRoot)) return processRoot;
  processRoot = mkdtempSync(join(tmpdir(), `tsbcc-${euid()}-`));
  const own = processRoot;
  process.on("exit", () => rmSync(own, { recursive: true, force: true }));
  warnStore(`${shared} ${why}; using ${own} for this process`);
  return own;
}

/**
 * `parent/names...` as private directories (created 0700 as needed). `parent` must already be private (a root
 * from privateRoot or a result of this function). A component that is a symlink, not a directory, someone
 * else's or writable by others is removed (with a warning) and recreated.
 */
export function privateSubdir(parent: string, ...names: string[]): string {
  let dir = parent;
  for (const name of names) {
    if (!name || name === "." || name === ".." || name.includes("/")) throw new StoreError(`bad directory name ${JSON.stringify(name)}`);
    dir = join(dir, name);
    const st = lstatOrUndefined(dir);
    if (st?.isDirectory() && ownedAndClosed(st)) {
      if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700); // readable by others: nothing planted, but private all the same
      continue;
    }
    if (st) removeUntrusted(dir, dirProblem(st));
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new StoreError(`cannot create ${dir}`, { cause: err });
      // Another process of ours made it meanwhile: check it like any other.
      const again = lstatOrUndefined(dir);
      if (!again?.isDirectory() || !ownedAndClosed(again)) throw new StoreError(`${dir} ${again ? dirProblem(again) : "vanished"}`);
    }
  }
  return dir;
}

function dirProblem(st: Stats): string {
  if (st.isSymbolicLink()) return "is a symbolic link";
  if (!st.isDirectory()) return "is not a directory";
  if (st.uid !== euid()) return `is owned by uid ${st.uid}`;
  return `is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
}

/**
 * Publishes a directory of files at `dest` (in a private directory) in one step: written under a temporary
 * sibling name (0700 directories, 0600 files), then renamed into place. Returns false, leaving `dest` alone,
 * when `dest` already exists (another process published first).
 */
export function writePrivateTree(dest: string, files: Record<string, string | Uint8Array>): boolean {
  const tmp = tempNameFor(dest);
  mkdirSync(tmp, { mode: 0o700 });
  try {
    for (const [rel, data] of Object.entries(files)) {
      const parts = rel.split("/");
      const dir = privateSubdir(tmp, ...parts.slice(0, -1));
      writeFileSync(join(dir, parts[parts.length - 1]!), data, { mode: 0o600, flag: "wx" });
    }
    renameSync(tmp, dest);
    return true;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") return false;
    throw err;
  }
}

/** Whether `dir` is a private directory right now (lstat: ours, a real directory, not writable by others). */
export function isPrivateDir(dir: string): boolean {
  const st = lstatOrUndefined(dir);
  return !!st?.isDirectory() && ownedAndClosed(st);
}

/**
 * Walks `dir` (without following links) and removes, with a warning, every entry that is not ours, is
 * writable by others, is a link (unless `allowLink` accepts it) or is neither file nor directory.
 * Returns how many were removed. `dir` itself must be private.
 */
export function verifyTree(dir: string, allowLink?: (path: string, st: Stats) => boolean): number {
  let removed = 0;
  for (const name of listDir(dir)) {
    const path = join(dir, name);
    const st = lstatOrUndefined(path);
    if (!st) continue;
    let problem: string | undefined;
    if (st.isDirectory()) problem = ownedAndClosed(st) ? undefined : dirProblem(st);
    else if (st.isSymbolicLink()) problem = st.uid === euid() && allowLink?.(path, st) ? undefined : "is a symbolic link";
    else problem = fileProblem(st);
    if (problem) {
      removeUntrusted(path, problem);
      removed++;
    } else if (st.isDirectory()) removed += verifyTree(path, allowLink);
  }
  return removed;
}
