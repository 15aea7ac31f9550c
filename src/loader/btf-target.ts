// attach_btf_id for BTF-attached programs (fentry/fexit/fmod_ret, lsm, iter, tp_btf), from libbpf's section
// conventions: the section's target names a kernel function (or hook/iterator/tracepoint) that must be found in
// the kernel's BTF. vmlinux first, then every module's split BTF; a module target also needs an fd for the
// module's BTF object (attach_btf_obj_fd).
import { ErrorCode, TsbccError } from "../errors.js";
import { AttachType } from "../sys/abi.js";
import { haveVmlinuxBtf, moduleBtf, modulesWithBtf, openKernelBtfObject, vmlinuxBtf } from "../kernel/btf.js";
import type { Fd } from "../sys/index.js";
import type { BtfKind } from "../btf/types.js";

export class BtfTargetError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.ATTACH, message);
  }
}

export interface BtfTarget {
  btfId: number;
  /** Where it was found: "vmlinux" or a module name. */
  module: string;
  /** The module's BTF object (undefined for vmlinux); close it once the program is loaded. */
  objFd?: Fd;
}

/** The BTF name and kind a section target stands for, per expected attach type; undefined: no BTF target. */
export function btfTargetName(attachType: number, target: string): { kind: BtfKind; name: string; what: string } | undefined {
  switch (attachType) {
    case AttachType.TRACE_FENTRY:
    case AttachType.TRACE_FEXIT:
    case AttachType.MODIFY_RETURN:
      return { kind: "func", name: target, what: `function ${target}` };
    case AttachType.LSM_MAC:
      return { kind: "func", name: `bpf_lsm_${target}`, what: `LSM hook ${target} (bpf_lsm_${target})` };
    case AttachType.TRACE_ITER:
      return { kind: "func", name: `bpf_iter_${target}`, what: `iterator ${target} (bpf_iter_${target})` };
    case AttachType.TRACE_RAW_TP:
      return { kind: "typedef", name: `btf_trace_${target}`, what: `tracepoint ${target} (btf_trace_${target})` };
    default:
      return undefined;
  }
}

/**
 * Finds the BTF id for a section target. `target` may be "module:name" to search one module only (libbpf's
 * syntax); otherwise vmlinux, then every module with BTF.
 */
export function resolveBtfTarget(attachType: number, target: string): BtfTarget | undefined {
  let module: string | undefined;
  let name = target;
  const colon = target.indexOf(":");
  if (colon > 0) {
    module = target.slice(0, colon);
    name = target.slice(colon + 1);
  }
  const want = btfTargetName(attachType, name);
  if (!want) return undefined;
  if (!name) throw new BtfTargetError(`the section names no ${want.what.split(" ")[0]} to attach to`);
  if (!haveVmlinuxBtf()) {
    throw new BtfTargetError(`${want.what} cannot be resolved: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing; CONFIG_DEBUG_INFO_BTF unset)`);
  }
  if (module === undefined || module === "vmlinux") {
    const id = vmlinuxBtf().findIds(want.kind, want.name)[0];
    if (id) return { btfId: id, module: "vmlinux" };
    if (module === "vmlinux") throw new BtfTargetError(`${want.what} not found in kernel BTF (vmlinux)`);
  }
  const candidates = module === undefined ? modulesWithBtf() : [module];
  for (const mod of candidates) {
    let btf;
    try {
      btf = moduleBtf(mod);
    } catch {
      if (module !== undefined) throw new BtfTargetError(`module ${mod} has no BTF (is it loaded? see /sys/kernel/btf)`);
      continue;
    }
    const id = btf.findIds(want.kind, want.name).find((i) => i >= btf.firstId);
    if (!id) continue;
    const objFd = openKernelBtfObject(mod);
    if (!objFd) throw new BtfTargetError(`${want.what} is in module ${mod}'s BTF, but no kernel BTF object named ${mod} was found`);
    return { btfId: id, module: mod, objFd };
  }
  const where = module === undefined ? "kernel BTF (vmlinux or any loaded module)" : `module ${module}'s BTF`;
  const hint = attachType === AttachType.LSM_MAC ? ": not an LSM hook, or the kernel lacks CONFIG_BPF_LSM"
    : attachType === AttachType.TRACE_ITER ? ": no such iterator in this kernel"
    : attachType === AttachType.TRACE_RAW_TP ? "" : ": it does not exist, or is inlined/static without BTF; load its module first if it lives in one";
  throw new BtfTargetError(`${want.what} not found in ${where}${hint}`);
}
