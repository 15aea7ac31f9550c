// Syscall numbers <-> names for this architecture, read from the installed uapi header (asm/unistd_64.h on
// x86-64, asm-generic/unistd.h elsewhere; Debian's linux-libc-dev, pulled in by libc6-dev). The kernel exposes
// syscall names (tracefs) but not their numbers. Without the header, syscalls print as "[unknown: N]" as in BCC.
import { readFileSync } from "node:fs";
import { ErrorCode, TsbccError } from "../../errors.js";

const HEADERS: Record<string, string[]> = {
  x64: ["/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"],
  arm64: ["/usr/include/aarch64-linux-gnu/asm/unistd.h", "/usr/include/asm-generic/unistd.h"],
};

let table: Map<number, string> | undefined;

/** Number -> name, from the header (empty when no header is installed). */
export function syscallTable(): Map<number, string> {
  if (table) return table;
  table = new Map();
  for (const path of HEADERS[process.arch] ?? []) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^#define\s+__NR(?:3264)?_(\w+)\s+(\d+)\s*$/gm)) {
      if (!table.has(Number(m[2]))) table.set(Number(m[2]), m[1]);
    }
    if (table.size > 0) break;
  }
  return table;
}

export function syscallName(nr: number): string {
  return syscallTable().get(nr) ?? `[unknown: ${nr}]`;
}

/** A syscall given by name or number; throws for an unknown name. */
export function syscallNumber(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  for (const [nr, name] of syscallTable()) if (name === text) return nr;
  throw new TsbccError(ErrorCode.USAGE, `no syscall named '${text}' (tsbcc syscount -l lists them)`);
}
