// Pinned maps (BCC's BPF_TABLE_PINNED, libbpf's `pinning`): a map pinned at a path on the BPF filesystem is
// shared by every process that names that path. As in BCC, an existing pin is opened and used; a missing one is
// created and pinned (parent directories made). A path outside bpffs fails clearly instead of silently giving
// the program a fresh, empty map.
import { existsSync, mkdirSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
import { bpf, type Fd } from "../sys/index.js";
import { BPF_FS_MAGIC, mapTypeName } from "../sys/abi.js";
import { ErrorCode, TsbccError } from "../errors.js";
import type { MapSpec } from "./map-spec.js";

export class PinError extends TsbccError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.PIN, `pinned map ${path}: ${message}`, options);
    this.path = path;
  }
}

/** The nearest existing directory at or above `path`. */
function existingAncestor(path: string): string {
  let p = path;
  while (!existsSync(p) && p !== dirname(p)) p = dirname(p);
  return p;
}

/** Throws PinError unless `path` (or, when it does not exist yet, its nearest existing parent) is on bpffs. */
export function checkOnBpffs(path: string): void {
  const where = existingAncestor(path);
  const type = statfsSync(where).type;
  if (type !== BPF_FS_MAGIC) {
    throw new PinError(path, `${where} is not on the BPF filesystem (mount -t bpf bpf /sys/fs/bpf); ` +
      "maps can only be pinned under a bpffs mount");
  }
}

/** Opens the map pinned at `path`, or creates it with `create()` and pins it there. */
export function openOrPin(m: MapSpec, path: string, create: () => Fd): Fd {
  checkOnBpffs(path);
  if (existsSync(path)) {
    const fd = bpf.objGet(path, `map "${m.name}" pinned at`);
    try {
      const info = bpf.mapInfo(fd.value);
      // BCC reuses whatever is pinned; a map of another shape would only give garbage, so say so instead.
      if (info.keySize !== m.keySize || info.valueSize !== m.valueSize) {
        throw new PinError(path, `holds a ${mapTypeName(info.type)} with key ${info.keySize} B / value ${info.valueSize} B, ` +
          `but map "${m.name}" is ${mapTypeName(m.type)} with key ${m.keySize} B / value ${m.valueSize} B`);
      }
    } catch (e) {
      fd.close();
      throw e;
    }
    return fd;
  }
  mkdirSync(dirname(path), { recursive: true });
  const fd = create();
  try {
    bpf.objPin(fd.value, path);
  } catch (e) {
    fd.close();
    throw new PinError(path, `cannot pin the new map: ${(e as Error).message}`, { cause: e });
  }
  return fd;
}
