// Syscall entry function names: the kernel function behind a syscall carries an arch prefix
// ("__x64_sys_" on x86_64 since Linux 4.17, "sys_" before), found in /proc/kallsyms.
import { readFileSync } from "node:fs";

const PREFIXES = ["__x64_sys_", "sys_"];
let prefix: string | undefined;

/** The prefix this kernel's syscall entry functions carry. */
export function syscallPrefix(): string {
  if (prefix !== undefined) return prefix;
  let syms = "";
  try {
    syms = readFileSync("/proc/kallsyms", "utf8");
  } catch {
    // Unreadable: assume the classic names.
  }
  const found = PREFIXES.find((p) => new RegExp(`^\\S+ [TtWw] ${p}bpf$`, "m").test(syms));
  return (prefix = found ?? "sys_");
}

/** The kernel function behind syscall `name` ("getppid" -> "__x64_sys_getppid"). */
export function syscallFnName(name: string): string {
  return syscallPrefix() + name;
}

/** `sys_x` / `__x64_sys_x` written in a program -> the running kernel's name for it; other names unchanged. */
export function fixSyscallFnName(name: string): string {
  const p = PREFIXES.find((q) => name.startsWith(q));
  return p ? syscallFnName(name.slice(p.length)) : name;
}

/** Where the C library's headers number the x86_64 syscalls (linux-libc-dev; libbpf-dev pulls it in). */
const UNISTD = ["/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"];
let table: Map<number, string> | undefined;

/** Syscall number -> name for this architecture (BCC's bcc.syscall.syscalls), from the uapi header's __NR_ lines. */
export function syscallTable(): Map<number, string> {
  if (table) return table;
  table = new Map();
  for (const path of UNISTD) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)) table.set(Number(m[2]), m[1]!);
    break;
  }
  return table;
}

/** BCC's syscall_name(nr): the syscall's name, or "[unknown: N]". */
export function syscallName(nr: number): string {
  return syscallTable().get(nr) ?? `[unknown: ${nr}]`;
}
