// What the kernel says about a loaded program (struct bpf_prog_info): its type and id. Used to refuse a
// program of the wrong type for a hook before the kernel gives a bare EINVAL.
import { ArgumentError } from "../errors.js";
import { bpf } from "../sys/index.js";
import { progTypeName } from "../sys/abi.js";

export interface ProgInfo {
  type: number;
  id: number;
}

export function progInfo(progFd: number): ProgInfo {
  const info = new Uint8Array(256);
  bpf.objInfo(progFd, info);
  const v = new DataView(info.buffer);
  return { type: v.getUint32(0, true), id: v.getUint32(4, true) };
}

/** Throws an ArgumentError naming `argument` unless the program's type is one of `types`. */
export function requireProgType(progFd: number, types: number[], hook: string, argument = "fn"): ProgInfo {
  const info = progInfo(progFd);
  if (!types.includes(info.type)) {
    throw new ArgumentError(argument, `a ${progTypeName(info.type)} program cannot attach to ${hook} (needs ${types.map(progTypeName).join(" or ")})`);
  }
  return info;
}
