// Files only we can have written: what a cache reads is loaded into the kernel as is, so a file someone else
// could have written (or a link to one) is never trusted.
//
// The rule, for every file read from or written to a private directory: a regular file owned by the running
// user, not group/world-writable, with one link, reached without following a symlink (O_NOFOLLOW, checked with
// fstat on the opened fd). Anything else is removed with a warning. Writes are atomic (temp file + rename) with
// mode 0600; temporaries carry the writer's pid so those of killed processes can be swept.

import { randomBytes } from "node:crypto";
import {
  type Stats, closeSync, constants, fstatSync, openSync, readSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { ErrorCode, TsbccError } from "../errors.js";

/** A private directory cannot be used safely; callers bypass the cache (with a warning) when they see it. */
export class StoreError extends TsbccError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.CACHE, message, options);
  }
}

/** A Uint8Array view of a Buffer (this @types/node's Buffer does not type-check as TS 5.9's Uint8Array). */
export function bytesOf(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function euid(): number {
  return process.geteuid?.() ?? 0;
}

/** Owned by us and writable by nobody else (the mode test shared by files and directories). */
export function ownedAndClosed(st: Stats): boolean {
  return st.uid === euid() && (st.mode & 0o022) === 0;
}

/** Why a file's lstat/fstat makes it untrusted, or undefined when it is fine. */
export function fileProblem(st: Stats): string | undefined {
  if (!st.isFile()) return st.isSymbolicLink() ? "is a symbolic link" : "is not a regular file";
  if (st.uid !== euid()) return `is owned by uid ${st.uid}`;
  if ((st.mode & 0o022) !== 0) return `is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
  if (st.nlink !== 1) return `has ${st.nlink} hard links`;
  return undefined;
}

/** A warning about private state (cache entries dropped, a directory bypassed); `process.on("warning")` sees it. */
export function warnStore(message: string): void {
  process.emitWarning(`tsbcc: ${message}`, { type: "TsbccCacheWarning", code: "TSBCC_CACHE" });
}

/**
 * Removes `path` (file, link or tree) and warns why. Inside a directory we own the unlink always works for
 * files; a foreign directory we cannot empty is renamed aside instead. Throws StoreError if neither works.
 */
export function removeUntrusted(path: string, why: string): void {
  warnStore(`${path} ${why}; removed`);
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch {
    // a foreign directory we may not empty: move it out of the way
  }
  try {
    renameSync(path, join(dirname(path), `.untrusted-${randomBytes(6).toString("hex")}`));
  } catch (err) {
    throw new StoreError(`cannot remove untrusted ${path}`, { cause: err });
  }
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The file's bytes, or undefined when it does not exist. An untrusted file (link, FIFO, someone else's,
 * writable by others, hard-linked) is removed with a warning and reads as absent.
 */
export function readPrivateFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") removeUntrusted(path, "is a symbolic link");
    else if (code !== "ENOENT" && code !== "ENOTDIR") warnStore(`cannot read ${path} (${code}); ignored`);
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    const problem = fileProblem(st);
    if (problem) {
      closeSync(fd);
      fd = -1;
      removeUntrusted(path, problem);
      return undefined;
    }
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, bytesOf(buf), off, st.size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return off === st.size ? buf : buf.subarray(0, off);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Whether `path` is a trusted private file (checked like readPrivateFile, without reading it). */
export function isPrivateFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") removeUntrusted(path, "is a symbolic link");
    return false;
  }
  let problem: string | undefined;
  try {
    problem = fileProblem(fstatSync(fd));
  } finally {
    closeSync(fd);
  }
  if (problem) removeUntrusted(path, problem);
  return !problem;
}

/** The temporary name a write to `path` goes through (pid first, so sweepDeadTemps can tell whose it is). */
export function tempNameFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Writes `path` atomically with mode 0600 (the directory must be private: see private-dirs.ts). */
export function writePrivateFile(path: string, data: Uint8Array | string): void {
  const tmp = tempNameFor(path);
  const bytes = typeof data === "string" ? bytesOf(Buffer.from(data, "utf8")) : data;
  const fd = openSync(tmp, WRITE_FLAGS, 0o600);
  try {
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
  } catch (err) {
    closeSync(fd);
    unlinkQuiet(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkQuiet(tmp);
    throw err;
  }
}

/** Like writePrivateFile, but a failure (full disk, read-only file system) only warns: a cache write is optional. */
export function writePrivateFileQuiet(path: string, data: Uint8Array | string): boolean {
  try {
    writePrivateFile(path, data);
    return true;
  } catch (err) {
    warnStore(`cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); not cached`);
    return false;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Whether a process with this pid exists (EPERM: it does, it is someone else's). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The names in `dir`, or none when it cannot be read (gone, not a directory). */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const TEMP_RE = /\.tmp-(\d+)-[0-9a-f]+$/;

/** Removes temporaries (files or directories) in `dir` left by processes that no longer run. */
export function sweepDeadTemps(dir: string): number {
  let removed = 0;
  for (const name of listDir(dir)) {
    const m = TEMP_RE.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
