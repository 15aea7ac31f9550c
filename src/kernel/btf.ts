// The running kernel's BTF: vmlinux and the split BTF of each loaded module (/sys/kernel/btf/<module>), parsed
// once per process, plus the kernel BTF *objects* (fds) that attach_btf_obj_fd needs for module targets.
import { ArgumentError } from "../errors.js";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { Btf } from "../btf/btf.js";
import { addressOf, bpf, SyscallError, type Fd } from "../sys/index.js";

const SYSFS_BTF = "/sys/kernel/btf";

let vmlinux: Btf | undefined;
const modules = new Map<string, Btf>();

/** The kernel's own BTF (/sys/kernel/btf/vmlinux), parsed on first use. */
export function vmlinuxBtf(): Btf {
  return (vmlinux ??= Btf.parse(new Uint8Array(readFileSync(`${SYSFS_BTF}/vmlinux`))));
}

export function haveVmlinuxBtf(): boolean {
  return existsSync(`${SYSFS_BTF}/vmlinux`);
}

/** Names of loaded modules that carry BTF (CONFIG_DEBUG_INFO_BTF_MODULES), sorted. */
export function modulesWithBtf(): string[] {
  try {
    return readdirSync(SYSFS_BTF).filter((n) => n !== "vmlinux").sort();
  } catch {
    return [];
  }
}

/** A module's BTF, split on vmlinux (its ids continue vmlinux's). */
export function moduleBtf(name: string): Btf {
  if (name.includes("/") || name === "." || name === "..") throw new ArgumentError("module", `bad module name ${JSON.stringify(name)}`);
  let btf = modules.get(name);
  if (!btf) {
    btf = Btf.parse(new Uint8Array(readFileSync(`${SYSFS_BTF}/${name}`)), { base: vmlinuxBtf() });
    modules.set(name, btf);
  }
  return btf;
}

// struct bpf_btf_info: btf (u64) @0, btf_size @8, id @12, name (u64) @16, name_len @24, kernel_btf @28.
const BTF_INFO_SIZE = 32;

/**
 * An fd for the kernel BTF object named `name` ("vmlinux" or a module), found by walking BTF ids; undefined when
 * no such object is loaded. The caller closes it.
 */
export function openKernelBtfObject(name: string): Fd | undefined {
  for (const id of bpf.objectIds(bpf.BpfCmd.BTF_GET_NEXT_ID)) {
    let fd: Fd;
    try {
      fd = bpf.fdById(bpf.BpfCmd.BTF_GET_FD_BY_ID, id, "btf");
    } catch (e) {
      if (e instanceof SyscallError && e.errnoCode === "ENOENT") continue; // Unloaded while we walked.
      throw e;
    }
    const info = new Uint8Array(BTF_INFO_SIZE);
    const nameBuf = new Uint8Array(64);
    new DataView(info.buffer).setBigUint64(16, addressOf(nameBuf), true);
    new DataView(info.buffer).setUint32(24, nameBuf.byteLength, true);
    let match = false;
    try {
      bpf.objInfo(fd.value, info);
      const v = new DataView(info.buffer);
      const end = nameBuf.indexOf(0);
      const objName = new TextDecoder().decode(nameBuf.subarray(0, end < 0 ? nameBuf.length : end));
      match = v.getUint32(28, true) !== 0 && objName === name;
    } catch (e) {
      fd.close();
      throw e;
    }
    if (match) return fd;
    fd.close();
  }
  return undefined;
}

/** Whether the running kernel's `struct <structName>` has a member `field` (BCC's kernel_struct_has_field; from BTF). */
export function kernelStructHasField(structName: string, field: string): boolean {
  const btf = vmlinuxBtf();
  for (const id of btf.findIds("struct", structName)) {
    const t = btf.type(id);
    if (t.kind === "struct" && t.members.some((m) => m.name === field)) return true;
  }
  return false;
}

/** Whether an enum of the running kernel named `enumName` has enumerator `value` (BCC's kernel_enum_has_val). */
export function kernelEnumHasVal(enumName: string, value: string): boolean {
  const btf = vmlinuxBtf();
  for (const kind of ["enum", "enum64"] as const) {
    for (const id of btf.findIds(kind, enumName)) {
      const t = btf.type(id);
      if ((t.kind === "enum" || t.kind === "enum64") && t.values.some((v) => v.name === value)) return true;
    }
  }
  return false;
}
