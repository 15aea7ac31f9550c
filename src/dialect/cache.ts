// Compile cache: object + metadata keyed by everything that changes them.
//
// The directory must belong to the current user (root when tracing) and be closed to others (mode 0700):
// a cached object is loaded into the kernel as is, so anyone able to write there could run code in it.
// Entries are single files written atomically (temp file + rename) with mode 0600; an entry with another owner,
// a group/other-writable mode or a bad format is ignored and replaced.

import { createHash } from "node:crypto";
import {
  chmodSync, closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, unlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const MAGIC = "TSBCC-DIALECT-CACHE-1\n";

/** A Uint8Array view of a Buffer (this @types/node's Buffer does not type-check as TS 5.9's Uint8Array). */
export function bytesOf(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Same order as kernel-types: $TSBCC_CACHE_DIR, $XDG_CACHE_HOME/tsbcc, /var/cache/tsbcc (root), ~/.cache/tsbcc. */
export function defaultCacheRoot(): string {
  if (process.env.TSBCC_CACHE_DIR) return process.env.TSBCC_CACHE_DIR;
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, "tsbcc");
  if ((process.geteuid?.() ?? 0) === 0) return "/var/cache/tsbcc";
  return join(homedir(), ".cache", "tsbcc");
}

function euid(): number {
  return process.geteuid?.() ?? 0;
}

/**
 * Makes sure `dir` exists, is a directory (not a symlink), is owned by us and has no group/other permissions.
 * Returns false when it cannot be made so (then caching is skipped).
 */
export function ensurePrivateDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== euid()) return false;
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    return true;
  } catch {
    return false;
  }
}

/** Reads a file only if it is a regular file owned by us and not writable by group/other. */
export function readPrivateFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== euid() || (st.mode & 0o022) !== 0) {
      closeSync(fd);
      fd = -1;
      try {
        unlinkSync(path);
      } catch {
        // not ours to remove; it is ignored all the same
      }
      return undefined;
    }
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, bytesOf(buf), off, st.size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return off === st.size ? buf : undefined;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Writes a file atomically with mode 0600. */
export function writePrivateFile(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600, flag: "wx" });
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // ignore
    }
    throw err;
  }
}

export function cacheKey(parts: Record<string, unknown>): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

export interface CacheEntry {
  object: Uint8Array;
  /** JSON-serializable record stored with the object (metadata, rewritten text, warnings). */
  info: unknown;
}

export class CompileCache {
  readonly dir: string;
  readonly usable: boolean;

  constructor(root: string) {
    this.dir = join(root, "dialect");
    this.usable = ensurePrivateDir(root) && ensurePrivateDir(this.dir);
  }

  private path(key: string): string {
    return join(this.dir, `${key}.bin`);
  }

  get(key: string): CacheEntry | undefined {
    if (!this.usable) return undefined;
    const buf = readPrivateFile(this.path(key));
    if (!buf) return undefined;
    try {
      if (buf.toString("latin1", 0, MAGIC.length) !== MAGIC) throw new Error("bad magic");
      const jsonLen = buf.readUInt32LE(MAGIC.length);
      const jsonStart = MAGIC.length + 4;
      const info = JSON.parse(buf.toString("utf8", jsonStart, jsonStart + jsonLen)) as { key?: string };
      if (info.key !== key) throw new Error("key mismatch");
      const object = new Uint8Array(buf.buffer, buf.byteOffset + jsonStart + jsonLen, buf.length - jsonStart - jsonLen);
      return { object, info };
    } catch {
      try {
        unlinkSync(this.path(key));
      } catch {
        // ignore
      }
      return undefined;
    }
  }

  put(key: string, object: Uint8Array, info: Record<string, unknown>): void {
    if (!this.usable) return;
    const json = Buffer.from(JSON.stringify({ ...info, key }), "utf8");
    const head = Buffer.alloc(MAGIC.length + 4);
    head.write(MAGIC, 0, "latin1");
    head.writeUInt32LE(json.length, MAGIC.length);
    try {
      const all = new Uint8Array(head.length + json.length + object.byteLength);
      all.set(bytesOf(head), 0);
      all.set(bytesOf(json), head.length);
      all.set(object, head.length + json.length);
      writePrivateFile(this.path(key), all);
    } catch {
      // a full or read-only disk only costs the next compile
    }
  }

  /** Small text state (clang version records); same ownership rules as entries. */
  readState(path: string): string | undefined {
    return readPrivateFile(path)?.toString("utf8");
  }

  writeState(path: string, data: string): void {
    if (!this.usable) return;
    try {
      writePrivateFile(path, data);
    } catch {
      // ignore
    }
  }
}

/** Reads a small file if it exists (no ownership rules: used for inputs, not for cached results). */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
