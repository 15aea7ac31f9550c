// What BPF programs are loaded in the kernel right now (like `bpftool prog list`): used by tests to prove
// nothing of ours is left behind, and by tools that list programs.
import { bpf, SyscallError } from "../sys/index.js";

export interface LoadedProgramInfo {
  id: number;
  type: number;
  name: string;
}

const PROG_INFO_SIZE = 256;

export function listPrograms(): LoadedProgramInfo[] {
  const out: LoadedProgramInfo[] = [];
  for (const id of bpf.objectIds(bpf.BpfCmd.PROG_GET_NEXT_ID)) {
    let fd;
    try {
      fd = bpf.fdById(bpf.BpfCmd.PROG_GET_FD_BY_ID, id, "prog");
    } catch (e) {
      if (e instanceof SyscallError && e.errnoCode === "ENOENT") continue; // Unloaded while we were iterating.
      throw e;
    }
    try {
      const info = new Uint8Array(PROG_INFO_SIZE);
      bpf.objInfo(fd.value, info);
      const v = new DataView(info.buffer);
      const nameBytes = info.subarray(64, 80);
      const end = nameBytes.indexOf(0);
      out.push({ id, type: v.getUint32(0, true), name: new TextDecoder().decode(nameBytes.subarray(0, end < 0 ? 16 : end)) });
    } finally {
      fd.close();
    }
  }
  return out;
}
