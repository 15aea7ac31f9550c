// One process's address space for symbolization: its executable mappings from /proc/PID/maps (captured the
// first time the process is asked about, so a process that exits afterwards still symbolizes), the module
// symbols behind each file mapping (loaded on first use), and its perf map for JIT code.
//
// Files are opened through /proc/PID/root (container paths), then /proc/PID/map_files (deleted files), then
// the path as seen from here (a process that has exited). The maps are re-read when an address falls outside
// every known mapping (a library loaded since), at most every 50 ms, and dropped when the pid turns out to
// belong to a newer process (a different start time).
import { existsSync, readFileSync } from "node:fs";
import type { ModuleSymbols } from "./elf-symbols.js";
import { PerfMap } from "./perf-map.js";

export interface Mapping {
  start: number;
  end: number;
  offset: number;
  inode: number;
  /** File path ("" for anonymous memory, "[vdso]" and the like for special mappings). */
  path: string;
}

export interface UserSymbol {
  /** Undefined when the address is mapped but no symbol covers it. */
  name: string | undefined;
  offset: number;
  /** Path of the mapped file, the perf map for JIT code, or "" for anonymous memory. */
  module: string;
}

/** Loads (or returns cached) symbols for a file mapping, trying each of `paths`; null when none can be read. */
export type ModuleLoader = (paths: string[]) => ModuleSymbols | null;

const REFRESH_INTERVAL_MS = 50;
const PERF_MAP_RECHECK_MS = 10;

function readStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]; // field 22, counted after "(comm)"
  } catch {
    return undefined;
  }
}

/** Executable mappings of `pid`, sorted by start; undefined when /proc/PID/maps cannot be read. */
export function readMaps(pid: number): Mapping[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, "utf8");
  } catch {
    return undefined;
  }
  const out: Mapping[] = [];
  for (const line of text.split("\n")) {
    // start-end perms offset dev inode [path]
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ (\d+)\s*(.*)$/.exec(line);
    if (!m || m[3]![2] !== "x") continue;
    out.push({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), offset: parseInt(m[4]!, 16), inode: Number(m[5]), path: m[6]! });
  }
  return out.sort((a, b) => a.start - b.start);
}

function nsPid(pid: number): number {
  try {
    const m = /^NStgid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
    const last = m?.[1]!.trim().split(/\s+/).pop();
    return last ? Number(last) : pid;
  } catch {
    return pid;
  }
}

export class ProcessSymbols {
  private maps: Mapping[];
  private readonly modules = new Map<Mapping, ModuleSymbols | null>();
  private perfMap?: PerfMap;
  private perfMapChecked = 0;
  private perfMapGrew = false;
  private lastRefresh = Date.now();
  /** The index of the mapping hit last: consecutive addresses usually fall in the same one. */
  private last = 0;

  private constructor(readonly pid: number, private readonly startTime: string | undefined, maps: Mapping[], private readonly loader: ModuleLoader) {
    this.maps = maps;
  }

  /** Captures `pid`'s mappings now; undefined when the process does not exist (or cannot be read). */
  static capture(pid: number, loader: ModuleLoader): ProcessSymbols | undefined {
    const startTime = readStartTime(pid);
    const maps = readMaps(pid);
    if (!maps) return undefined;
    const p = new ProcessSymbols(pid, startTime, maps, loader);
    p.choosePerfMap();
    return p;
  }

  /** False once `pid` has been reused by another process (so this capture must be replaced). */
  isSameProcess(): boolean {
    const now = readStartTime(this.pid);
    return now === undefined || this.startTime === undefined || now === this.startTime;
  }

  get mappings(): readonly Mapping[] {
    return this.maps;
  }

  /** Loads the symbols of every file mapping now (for a process about to exit). */
  loadAll(): void {
    for (const m of this.maps) this.moduleOf(m);
    this.perfMap?.refresh();
  }

  resolve(addr: number, demangle: boolean): UserSymbol | undefined {
    let m = this.mappingAt(addr);
    if (!m && this.refreshMaps()) m = this.mappingAt(addr);
    if (m && m.inode !== 0) {
      const mod = this.moduleOf(m);
      if (mod) {
        const vaddr = mod.fileOffsetToVaddr(addr - m.start + m.offset);
        const pos = vaddr < 0 ? -1 : mod.find(vaddr);
        if (pos >= 0) return { name: mod.name(pos, demangle), offset: vaddr - mod.start(pos), module: m.path };
      }
    }
    const jit = this.perfMapLookup(addr);
    if (jit) return jit;
    return m ? { name: undefined, offset: 0, module: m.path } : undefined;
  }

  /** Run-time address of the function `name` in the first module (or the one whose path ends with `module`). */
  addressOf(name: string, module?: string): number | undefined {
    for (const m of this.maps) {
      if (m.inode === 0 || (module !== undefined && !m.path.endsWith(module))) continue;
      const mod = this.moduleOf(m);
      const vaddr = mod?.addressOf(name);
      if (vaddr === undefined) continue;
      // The mapping that holds this address's file offset gives its run-time address.
      for (const n of this.maps) {
        if (n.path !== m.path) continue;
        const back = mod!.fileOffsetToVaddr(n.offset);
        if (back >= 0 && vaddr >= back && vaddr < back + (n.end - n.start)) return n.start + (vaddr - back);
      }
    }
    this.perfMap?.refresh();
    return module === undefined ? this.perfMap?.addressOf(name) : undefined;
  }

  private mappingAt(addr: number): Mapping | undefined {
    const maps = this.maps;
    const hit = maps[this.last];
    if (hit && addr >= hit.start && addr < hit.end) return hit;
    let lo = 0;
    let hi = maps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (maps[mid]!.start <= addr) lo = mid + 1;
      else hi = mid;
    }
    const m = maps[lo - 1];
    if (!m || addr >= m.end) return undefined;
    this.last = lo - 1;
    return m;
  }

  private refreshMaps(): boolean {
    const now = Date.now();
    if (now - this.lastRefresh < REFRESH_INTERVAL_MS) return false;
    this.lastRefresh = now;
    const maps = readMaps(this.pid);
    if (!maps || !this.isSameProcess()) return false;
    const known = new Map(this.maps.map((m) => [`${m.start}-${m.inode}-${m.offset}`, m]));
    this.maps = maps.map((m) => known.get(`${m.start}-${m.inode}-${m.offset}`) ?? m); // keeps loaded modules
    this.last = 0;
    return true;
  }

  private moduleOf(m: Mapping): ModuleSymbols | null {
    let mod = this.modules.get(m);
    if (mod === undefined) {
      const path = m.path.replace(/ \(deleted\)$/, "");
      const paths = [`/proc/${this.pid}/root${path}`, `/proc/${this.pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`, path];
      mod = path.startsWith("/") ? this.loader(paths) : null;
      this.modules.set(m, mod);
    }
    return mod;
  }

  private choosePerfMap(): void {
    const inNs = `/proc/${this.pid}/root/tmp/perf-${nsPid(this.pid)}.map`;
    const host = `/tmp/perf-${this.pid}.map`;
    this.perfMap = new PerfMap(existsSync(inNs) ? inNs : host);
  }

  /**
   * JIT code from the perf map. A miss re-reads what the runtime appended since, at once while the file keeps
   * growing, else at most every PERF_MAP_RECHECK_MS (addresses no map covers must not each cost a stat).
   */
  private perfMapLookup(addr: number): UserSymbol | undefined {
    let hit = this.perfMap!.lookup(addr);
    if (!hit) {
      const now = Date.now();
      if (this.perfMapGrew || now - this.perfMapChecked >= PERF_MAP_RECHECK_MS) {
        this.perfMapChecked = now;
        if (this.perfMap!.size === 0 && !existsSync(this.perfMap!.path)) this.choosePerfMap();
        this.perfMapGrew = this.perfMap!.refresh();
        if (this.perfMapGrew) hit = this.perfMap!.lookup(addr);
      }
    }
    return hit ? { name: hit.name, offset: addr - hit.start, module: this.perfMap!.path } : undefined;
  }
}
