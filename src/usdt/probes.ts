// USDT probes of a binary (its `.note.stapsdt` notes, grouped by provider:name: one probe can sit at several
// places when the compiler duplicated or inlined its site) and of a process (its executable and every mapped
// shared library, opened through /proc/PID/root). Addresses become file offsets for the uprobe PMU; the
// semaphore's file offset is what the kernel's uprobe ref_ctr_offset increments while a probe is attached.
import { statSync } from "node:fs";
import { ElfFile } from "../elf/index.js";
import { ErrorCode, TsbccError } from "../errors.js";
import { openElf } from "../symbols/resolve.js";
import { pathInProcess, processExecutable, processMappings } from "../symbols/libraries.js";
import { parseUsdtArgs, type UsdtArg } from "./args.js";

export interface UsdtLocation {
  /** Link-time address of the probe site (prelink-adjusted through `.stapsdt.base`). */
  address: bigint;
  /** File offset of the probe site (where the uprobe goes). */
  offset: bigint;
  args: UsdtArg[];
}

export interface UsdtProbe {
  provider: string;
  name: string;
  /** The file holding the probe, as this process opens it. */
  binPath: string;
  /** Link-time address of the semaphore, 0n when the probe has none. */
  semaphore: bigint;
  /** File offset of the semaphore (0n when none). */
  semaphoreOffset: bigint;
  locations: UsdtLocation[];
  numArguments: number;
}

function semaphoreOffset(elf: ElfFile, path: string, addr: bigint): bigint {
  if (addr === 0n) return 0n;
  const viaSegment = elf.vaddrToFileOffset(addr);
  if (viaSegment !== undefined) return BigInt(viaSegment);
  // The `.probes` section holds the semaphores; map through its header when no segment carries file bytes.
  const s = elf.sections.find((x) => x.addr !== 0n && addr >= x.addr && addr < x.addr + BigInt(x.size) && x.name === ".probes");
  if (s) return BigInt(s.offset) + (addr - s.addr);
  throw new TsbccError(ErrorCode.BAD_ELF, `${path}: USDT semaphore at 0x${addr.toString(16)} is not in a loadable segment`);
}

/** Resolves the link-time address of `global` arguments (symbols) in the binary's symbol tables. */
function resolveGlobals(elf: ElfFile, path: string, args: UsdtArg[]): void {
  for (const a of args) {
    const l = a.location;
    if (l.kind !== "global" || l.address !== undefined) continue;
    const sym = [...elf.symbols(), ...elf.dynamicSymbols()].find((s) => s.name === l.symbol && s.value !== 0n);
    if (!sym) throw new TsbccError(ErrorCode.BAD_ELF, `${path}: USDT argument "${a.text}" names symbol ${l.symbol}, which the binary does not define`);
    l.address = sym.value + l.offset;
  }
}

const probeCache = new Map<string, { elf: ElfFile; probes: UsdtProbe[] }>();

/** Every USDT probe of one ELF file. */
export function probesOfFile(path: string): UsdtProbe[] {
  const elf = openElf(path);
  const hit = probeCache.get(path);
  if (hit && hit.elf === elf) return hit.probes;
  const byName = new Map<string, UsdtProbe>();
  for (const note of elf.stapsdtNotes()) {
    const key = `${note.provider}:${note.name}`;
    let p = byName.get(key);
    if (!p) {
      p = { provider: note.provider, name: note.name, binPath: path, semaphore: 0n, semaphoreOffset: 0n, locations: [], numArguments: 0 };
      byName.set(key, p);
    }
    if (note.semaphore !== 0n && p.semaphore === 0n) {
      p.semaphore = note.semaphore;
      p.semaphoreOffset = semaphoreOffset(elf, path, note.semaphore);
    }
    const offset = elf.vaddrToFileOffset(note.adjustedPc);
    if (offset === undefined) throw new TsbccError(ErrorCode.BAD_ELF, `${path}: USDT probe ${key} at 0x${note.adjustedPc.toString(16)} is not in a loadable segment`);
    const args = parseUsdtArgs(note.args);
    resolveGlobals(elf, path, args);
    p.locations.push({ address: note.adjustedPc, offset: BigInt(offset), args });
    p.numArguments = Math.max(p.numArguments, args.length);
  }
  const probes = [...byName.values()];
  probeCache.set(path, { elf, probes });
  return probes;
}

/** The ELF files a process runs: its executable, then each mapped library with USDT notes (deduplicated). */
export function processBinaries(pid: number): string[] {
  const exe = processExecutable(pid);
  const seen = new Set<string>();
  const out = [exe];
  for (const m of processMappings(pid)) {
    if (!m.perms.includes("x") && m.offset !== 0n) continue;
    if (seen.has(m.path) || m.path.startsWith("/memfd:") || m.path.startsWith("/dev/")) continue;
    seen.add(m.path);
    out.push(pathInProcess(m.path, pid));
  }
  return out;
}

/** USDT probes of every binary of a process (files that are not ELF, or unreadable, are skipped). */
export function probesOfProcess(pid: number): UsdtProbe[] {
  const out: UsdtProbe[] = [];
  const exe = processExecutable(pid);
  for (const path of processBinaries(pid)) {
    // The executable shows up again as a mapping: keep the /proc/PID/exe copy only.
    if (path !== exe && sameFile(path, exe)) continue;
    try {
      out.push(...probesOfFile(path));
    } catch (e) {
      if (path === exe) throw e;
    }
  }
  return out;
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a), y = statSync(b);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}
