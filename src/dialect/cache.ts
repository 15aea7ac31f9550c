// Compile cache: object + metadata keyed by everything that changes them, in `<root>/dialect/<key>.bin`.
//
// A cached object is loaded into the kernel as is, so the directory and entries follow src/store's rules (ours,
// closed to others, read without following links; anything else is removed with a warning). An entry records
// the length and SHA-256 of what follows its header: a truncated or damaged entry is removed with a warning that
// names the file, and the program is compiled again.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  bytesOf, privateRoot, privateSubdir, readPrivateFile, removeUntrusted, sweepDeadTemps, warnStore, writePrivateFileQuiet,
} from "../store/index.js";

const MAGIC = "TSBCC-DIALECT-CACHE-2\n";

export { bytesOf };

/** Same order as kernel-types: $TSBCC_CACHE_DIR, $XDG_CACHE_HOME/tsbcc, /var/cache/tsbcc (root), ~/.cache/tsbcc. */
export function defaultCacheRoot(): string {
  if (process.env.TSBCC_CACHE_DIR) return process.env.TSBCC_CACHE_DIR;
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, "tsbcc");
  if ((process.geteuid?.() ?? 0) === 0) return "/var/cache/tsbcc";
  return join(homedir(), ".cache", "tsbcc");
}

export function cacheKey(parts: Record<string, unknown>): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

export interface CacheEntry {
  object: Uint8Array;
  /** JSON-serializable record stored with the object (metadata, rewritten text, warnings). */
  info: unknown;
}

/** What the header of an entry says about the rest. */
interface EntryHeader {
  key: string;
  infoLength: number;
  objectLength: number;
  /** SHA-256 (hex) of the info JSON followed by the object. */
  sha256: string;
}

function digest(info: Uint8Array, object: Uint8Array): string {
  return createHash("sha256").update(info).update(object).digest("hex");
}

export class CompileCache {
  /** The private root in use: `root` itself, or a fallback when `root` cannot be made private. */
  readonly root: string;

  constructor(root: string) {
    this.root = privateRoot(root);
  }

  /** `<root>/dialect`, checked on every use (two lstat calls). */
  get dir(): string {
    return privateSubdir(this.root, "dialect");
  }

  path(key: string): string {
    return join(this.dir, `${key}.bin`);
  }

  get(key: string): CacheEntry | undefined {
    const file = this.path(key);
    const buf = readPrivateFile(file);
    if (!buf) return undefined;
    const problem = entryProblem(buf, key);
    if (typeof problem === "string") {
      removeUntrusted(file, `is a damaged cache entry (${problem})`);
      return undefined;
    }
    return problem;
  }

  put(key: string, object: Uint8Array, info: Record<string, unknown>): void {
    let file: string;
    try {
      file = this.path(key);
      sweepDeadTemps(this.dir); // half-written entries of killed processes (cold path only)
    } catch (err) {
      warnStore(`compile cache not written: ${(err as Error).message}`);
      return;
    }
    const infoBytes = bytesOf(Buffer.from(JSON.stringify(info), "utf8"));
    const header: EntryHeader = { key, infoLength: infoBytes.length, objectLength: object.byteLength, sha256: digest(infoBytes, object) };
    const headBytes = bytesOf(Buffer.from(JSON.stringify(header), "utf8"));
    const all = new Uint8Array(MAGIC.length + 4 + headBytes.length + infoBytes.length + object.byteLength);
    let off = all.byteLength - object.byteLength;
    all.set(object, off);
    all.set(infoBytes, (off -= infoBytes.length));
    all.set(headBytes, (off -= headBytes.length));
    new DataView(all.buffer).setUint32((off -= 4), headBytes.length, true);
    all.set(bytesOf(Buffer.from(MAGIC, "latin1")), 0);
    writePrivateFileQuiet(file, all);
  }
}

/** The entry in `buf`, or what is wrong with it. */
function entryProblem(buf: Buffer, key: string): CacheEntry | string {
  if (buf.length < MAGIC.length + 4 || buf.toString("latin1", 0, MAGIC.length) !== MAGIC) return "unknown format";
  const headLen = buf.readUInt32LE(MAGIC.length);
  const headStart = MAGIC.length + 4;
  if (headStart + headLen > buf.length) return `truncated to ${buf.length} bytes`;
  let header: EntryHeader;
  try {
    header = JSON.parse(buf.toString("utf8", headStart, headStart + headLen)) as EntryHeader;
  } catch {
    return "unreadable header";
  }
  if (header.key !== key) return "written for another key";
  const infoStart = headStart + headLen;
  const want = infoStart + header.infoLength + header.objectLength;
  if (buf.length !== want) return `${buf.length} bytes where ${want} were written`;
  const infoBytes = bytesOf(buf.subarray(infoStart, infoStart + header.infoLength));
  const object = bytesOf(buf.subarray(infoStart + header.infoLength));
  if (digest(infoBytes, object) !== header.sha256) return "checksum mismatch";
  try {
    return { object, info: JSON.parse(buf.toString("utf8", infoStart, infoStart + header.infoLength)) };
  } catch {
    return "unreadable metadata";
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
