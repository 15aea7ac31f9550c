// One program text for a probe on a kernel function, whichever of fentry/fexit or kprobe/kretprobe the tool's
// source choice picked: the tool writes the body once (with typed arguments, and `ret` in return probes) and this
// writes the function around it and attaches it. The function names are the looked-up ones (`vfs_fsync_range`,
// or a compiler-suffixed copy for kprobes), so nothing here hard-codes a kernel version.
import type { BPF } from "../../index.js";
import type { Btf } from "../../btf/btf.js";
import { moduleBtf, modulesWithBtf, vmlinuxBtf } from "../../kernel/btf.js";

export interface FnProbe {
  /** The resolved kernel function (from ChosenSource.targets). */
  fn: string;
  /** C name of the probe function (kprobe form; fentry uses the kernel function's name). */
  name: string;
  /** Typed arguments after ctx, e.g. "struct file *file, char *buf" (may be empty). */
  args?: string;
  /** C body; a return probe reads the return value as `ret` (long). */
  body: string;
  ret?: boolean;
}

/** The C text of `p` for `kind` ("fentry" or "kprobe"). */
export function fnProbeText(kind: "fentry" | "kprobe", p: FnProbe): string {
  const args = p.args ? p.args.trim() : "";
  if (kind === "fentry") {
    // A function of a module (ext4 built as one) is attached through that module's BTF.
    const mod = btfFunction(p.fn)?.module;
    const macro = `${mod ? "MODULE_" : ""}${p.ret ? "KRETFUNC_PROBE" : "KFUNC_PROBE"}`;
    // fexit sees the return value after every parameter: those not named by the tool are declared untyped.
    const params = p.ret ? paramCount(p.fn) : undefined;
    const retArgs = p.ret && !args && params ? untypedArgs(params - 1) : args;
    const all = [...(mod ? [mod] : []), p.fn, ...(retArgs ? [retArgs] : []), ...(p.ret ? ["long ret"] : [])].join(", ");
    return `${macro}(${all}) {\n${p.body}\n}\n`;
  }
  if (p.ret) return `int ${p.name}(struct pt_regs *ctx) {\n    long ret = PT_REGS_RC(ctx);\n${p.body}\n}\n`;
  return `int ${p.name}(struct pt_regs *ctx${args ? `, ${args}` : ""}) {\n${p.body}\n}\n`;
}

/** Attaches every probe of `probes` (fentry ones are attached by the loader's autoload; kprobes here). */
export function attachFnProbes(kind: "fentry" | "kprobe", b: BPF, probes: readonly FnProbe[]): void {
  if (kind === "fentry") return;
  for (const p of probes) {
    if (p.ret) b.attachKretprobe({ event: p.fn, fnName: p.name });
    else b.attachKprobe({ event: p.fn, fnName: p.name });
  }
}

/** Is this a function-probe source kind? */
export function isFnKind(kind: string): kind is "fentry" | "kprobe" {
  return kind === "fentry" || kind === "kprobe";
}

/**
 * Where the kernel's BTF describes function `fn` (a compiler suffix is dropped): vmlinux (no `module`), or the
 * module whose name prefixes the function's (ext4_file_open -> ext4), else any module with BTF.
 */
export function btfFunction(fn: string): { module?: string; btf: Btf } | undefined {
  const name = fn.replace(/\..*$/, "");
  const has = (btf: Btf): boolean => btf.findByName("func", name)?.kind === "func";
  try {
    if (has(vmlinuxBtf())) return { btf: vmlinuxBtf() };
    const mods = modulesWithBtf();
    const likely = mods.filter((m) => name.startsWith(`${m}_`));
    for (const m of [...likely, ...mods.filter((x) => !likely.includes(x))]) {
      const btf = moduleBtf(m);
      if (has(btf)) return { module: m, btf };
    }
  } catch {
    // no BTF: the caller falls back or fails to load with the kernel's reason
  }
  return undefined;
}

/**
 * The position of kernel function `fn`'s parameter `param` in the kernel's BTF (signatures change across versions:
 * vfs_unlink gained a user namespace, then an idmap, before its dentry), or undefined when BTF does not have it.
 */
export function paramIndex(fn: string, param: string): number | undefined {
  const where = btfFunction(fn);
  if (!where) return undefined;
  const f = where.btf.findByName("func", fn.replace(/\..*$/, ""));
  if (!f || f.kind !== "func") return undefined;
  const proto = where.btf.type(f.type);
  if (proto.kind !== "func_proto") return undefined;
  const i = proto.params.findIndex((p) => p.name === param);
  return i < 0 ? undefined : i;
}
/** How many parameters kernel function `fn` has, per BTF. */
export function paramCount(fn: string): number | undefined {
  const where = btfFunction(fn);
  const f = where?.btf.findByName("func", fn.replace(/\..*$/, ""));
  if (!where || !f || f.kind !== "func") return undefined;
  const proto = where.btf.type(f.type);
  return proto.kind === "func_proto" ? proto.params.length : undefined;
}

/** "void *a0, void *a1, ..., void *aN": untyped arguments up to position `n`, for a body that casts the one it needs. */
export function untypedArgs(n: number): string {
  return Array.from({ length: n + 1 }, (_, i) => `void *a${i}`).join(", ");
}
