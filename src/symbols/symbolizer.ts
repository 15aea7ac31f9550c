// The symbolizer behind BPF.ksym / BPF.ksymname / b.sym / b.symName: kernel symbols from /proc/kallsyms, user
// symbols per process (maps captured on first sight), module symbol tables shared between processes and cached
// per file identity (device, inode, mtime, size), and build-id frames resolved through known modules or the
// debug root. Formats results the way BCC does: "name", "name+0x1f", "name [module]", "[unknown]".
import { statSync } from "node:fs";
import { basename } from "node:path";
import { ArgumentError, ErrorCode, TsbccError } from "../errors.js";
import { DEFAULT_DEBUG_ROOT, debugFileByBuildId, loadModuleSymbols } from "./debug-files.js";
import type { ModuleSymbols } from "./elf-symbols.js";
import { KernelSymbols } from "./kallsyms.js";
import { ProcessSymbols } from "./process.js";

export interface SymOptions {
  /** Append " [module]" (the file's base name; "kernel" for the core kernel image). */
  showModule?: boolean;
  /** Append "+0x<offset>" from the symbol's start. */
  showOffset?: boolean;
  /** Demangle C++ names (default true). */
  demangle?: boolean;
}

export interface SymbolizerOptions {
  /** Root of the separate debug-file tree (default: $TSBCC_DEBUG_ROOT, else /usr/lib/debug). */
  debugRoot?: string;
  /** kallsyms file to read (default /proc/kallsyms); a saved copy makes kernel symbolization reproducible. */
  kallsymsPath?: string;
}

/** A frame of a BPF_STACK_TRACE_BUILDID stack: build-id bytes (20) or hex, and the file offset. */
export interface BuildIdAddress {
  buildId: Uint8Array | string;
  offset: bigint | number;
}

export const UNKNOWN = "[unknown]";
const TWO64 = 1n << 64n;
/** Shared default, so a call without options allocates nothing. */
const NO_OPTIONS: SymOptions = Object.freeze({});
const TWO53 = 1n << 53n;
const KALLSYMS_RELOAD_MS = 1000;

export function checkAddress(addr: unknown, what = "addr"): bigint {
  if (typeof addr === "bigint") {
    if (addr < 0n || addr >= TWO64) throw new ArgumentError(what, `address ${addr} is outside 0..2^64-1`);
    return addr;
  }
  if (typeof addr === "number") {
    if (!Number.isSafeInteger(addr) || addr < 0) throw new ArgumentError(what, `address ${addr} is not a non-negative safe integer (pass a bigint)`);
    return BigInt(addr);
  }
  throw new ArgumentError(what, `expected a bigint or number address, got ${typeof addr}`);
}

function checkPid(pid: unknown): number {
  if (typeof pid !== "number" || !Number.isInteger(pid)) throw new ArgumentError("pid", `expected an integer pid, got ${String(pid)}`);
  return pid;
}

/** BCC's output shape: name (or [unknown]), then +0xoff when asked and known, then " [module]" when asked and known. */
export function formatSymbol(name: string | undefined, offset: number, module: string | undefined, opts: SymOptions): string {
  let out = name ?? UNKNOWN;
  if (opts.showOffset && name !== undefined) out += `+0x${offset.toString(16)}`;
  if (opts.showModule && module) out += ` [${basename(module)}]`;
  return out;
}

function hexOf(id: Uint8Array | string): string {
  if (typeof id === "string") return id.toLowerCase();
  let hex = "";
  for (const b of id) hex += b.toString(16).padStart(2, "0");
  return hex.replace(/(00)+$/, ""); // the kernel pads 20-byte ids; shorter ids arrive zero-filled
}

export class Symbolizer {
  readonly debugRoot: string;
  private readonly kallsymsPath: string;
  private kernel?: KernelSymbols;
  private kernelLoadedAt = 0;
  private readonly processes = new Map<number, ProcessSymbols>();
  private readonly modules = new Map<string, ModuleSymbols | null>();
  private readonly pathOf = new WeakMap<ModuleSymbols, string>();
  private readonly byBuildId = new Map<string, { symbols: ModuleSymbols; path: string }>();

  constructor(opts: SymbolizerOptions = {}) {
    if (opts.debugRoot !== undefined && (typeof opts.debugRoot !== "string" || opts.debugRoot === "")) {
      throw new ArgumentError("debugRoot", "expected a directory path");
    }
    this.debugRoot = opts.debugRoot ?? process.env.TSBCC_DEBUG_ROOT ?? DEFAULT_DEBUG_ROOT;
    this.kallsymsPath = opts.kallsymsPath ?? "/proc/kallsyms";
  }

  /** The kernel symbol table (loaded on first use). */
  kernelSymbols(): KernelSymbols {
    if (!this.kernel) this.reloadKernel();
    return this.kernel!;
  }

  /** Kernel address -> "name[+0xoff][ [module]]", or "[unknown]". */
  ksym(addr: bigint | number, opts: SymOptions = NO_OPTIONS): string {
    const a = checkAddress(addr);
    const kernel = this.kernel ?? this.kernelSymbols();
    if (!opts.showModule && !opts.showOffset) {
      const name = kernel.nameAt(a); // the common case, without building a result object
      if (name !== undefined) return name;
    }
    let hit = kernel.resolve(a);
    // A miss may be a module or BPF program loaded since: re-read kallsyms, at most once a second.
    if (!hit && Date.now() - this.kernelLoadedAt > KALLSYMS_RELOAD_MS) hit = this.reloadKernel().resolve(a);
    return hit ? formatSymbol(hit.name, hit.offset, hit.module, opts) : UNKNOWN;
  }

  /** Kernel symbol name -> address, or -1n when unknown (BCC returns -1). */
  ksymname(name: string): bigint {
    if (typeof name !== "string" || name === "") throw new ArgumentError("name", "expected a non-empty symbol name");
    return this.kernelSymbols().address(name) ?? -1n;
  }

  /**
   * Address in process `pid` -> "name[+0xoff][ [module]]", or "[unknown]". A negative pid means the kernel (as
   * in BCC). Unknown or dead pids that were never seen give "[unknown]".
   */
  sym(addr: bigint | number, pid: number, opts: SymOptions = NO_OPTIONS): string {
    const a = checkAddress(addr);
    if (checkPid(pid) < 0) return this.ksym(a, opts);
    const proc = this.processes.get(pid) ?? this.process(pid);
    if (!proc || a >= TWO53) return UNKNOWN;
    const hit = proc.resolve(Number(a), opts.demangle ?? true);
    if (!hit) return UNKNOWN;
    if (!opts.showModule && !opts.showOffset) return hit.name ?? UNKNOWN;
    return formatSymbol(hit.name, hit.offset, hit.module, opts);
  }

  /**
   * Function name -> its run-time address in process `pid` (optionally only in a module whose path ends with
   * `module`), or -1n when not found; JIT names are looked up in the perf map. A negative pid means the kernel.
   */
  symName(name: string, pid: number, opts: { module?: string } = {}): bigint {
    if (typeof name !== "string" || name === "") throw new ArgumentError("name", "expected a non-empty symbol name");
    if (checkPid(pid) < 0) return this.ksymname(name);
    const addr = this.process(pid)?.addressOf(name, opts.module);
    return addr === undefined ? -1n : BigInt(addr);
  }

  /**
   * Captures `pid`'s mappings now (what attach does when given a pid), so its addresses still symbolize after it
   * exits; `loadSymbols` also reads every module's symbols at once. Returns false when the process is not there.
   */
  rememberProcess(pid: number, opts: { loadSymbols?: boolean } = {}): boolean {
    const proc = this.process(checkPid(pid));
    if (proc && opts.loadSymbols) proc.loadAll();
    return proc !== undefined;
  }

  /** Forgets a process's captured mappings (its modules stay cached). */
  forgetProcess(pid: number): void {
    this.processes.delete(checkPid(pid));
  }

  /**
   * Registers an ELF file so stacks recorded with build-ids (BPF_STACK_TRACE_BUILDID) resolve to it (BCC's
   * add_module). Returns its build-id. Throws ArgumentError for a missing file, TsbccError(BAD_ELF) for a bad one.
   */
  addModule(path: string): string {
    if (typeof path !== "string" || path === "") throw new ArgumentError("path", "expected a file path");
    const symbols = this.module([path]);
    if (symbols === null) throw new ArgumentError("path", `cannot read ELF symbols from ${path}`);
    if (!symbols.buildId) throw new TsbccError(ErrorCode.BAD_ELF, `${path} has no GNU build-id note`);
    this.byBuildId.set(symbols.buildId, { symbols, path });
    return symbols.buildId;
  }

  /** A build-id frame -> "name[+0xoff][ [module]]", or "[unknown]" when no known module has that build-id. */
  symBuildId(frame: BuildIdAddress, opts: SymOptions = {}): string {
    if (!frame || (typeof frame.buildId !== "string" && !(frame.buildId instanceof Uint8Array))) {
      throw new ArgumentError("frame", "expected { buildId, offset }");
    }
    const offset = Number(checkAddress(frame.offset, "frame.offset"));
    const known = this.findBuildId(hexOf(frame.buildId));
    if (!known) return UNKNOWN;
    const vaddr = known.symbols.fileOffsetToVaddr(offset);
    const pos = vaddr < 0 ? -1 : known.symbols.find(vaddr);
    if (pos < 0) return formatSymbol(undefined, 0, known.path, opts);
    return formatSymbol(known.symbols.name(pos, opts.demangle ?? true), vaddr - known.symbols.start(pos), known.path, opts);
  }

  private findBuildId(id: string): { symbols: ModuleSymbols; path: string } | undefined {
    let known = this.byBuildId.get(id);
    if (known) return known;
    for (const mod of this.modules.values()) {
      if (mod?.buildId === id) return { symbols: mod, path: this.pathOf.get(mod) ?? id };
    }
    const debug = debugFileByBuildId(id, this.debugRoot);
    if (!debug) return undefined;
    known = { symbols: this.module([debug.path])!, path: debug.path };
    if (known.symbols) this.byBuildId.set(id, known);
    return known.symbols ? known : undefined;
  }

  private reloadKernel(): KernelSymbols {
    try {
      this.kernel = KernelSymbols.load(this.kallsymsPath);
    } catch {
      this.kernel = KernelSymbols.parse(""); // unreadable kallsyms: every lookup is unknown
    }
    this.kernelLoadedAt = Date.now();
    return this.kernel;
  }

  private process(pid: number): ProcessSymbols | undefined {
    let proc = this.processes.get(pid);
    if (proc) return proc;
    proc = ProcessSymbols.capture(pid, (paths) => this.module(paths));
    if (proc) this.processes.set(pid, proc);
    return proc;
  }

  /** Module symbols of the first readable path, cached by file identity; null when none is readable. */
  private module(paths: string[]): ModuleSymbols | null {
    for (const path of paths) {
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      const key = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
      let mod = this.modules.get(key);
      if (mod === undefined) {
        try {
          mod = loadModuleSymbols(path, { debugRoot: this.debugRoot });
        } catch {
          mod = null;
        }
        this.modules.set(key, mod);
        if (mod) this.pathOf.set(mod, path.replace(/^\/proc\/\d+\/root\//, "/"));
      }
      if (mod) return mod;
    }
    return null;
  }
}

let shared: Symbolizer | undefined;

/** The process-wide symbolizer the BPF class uses (debug root from $TSBCC_DEBUG_ROOT or /usr/lib/debug). */
export function defaultSymbolizer(): Symbolizer {
  return (shared ??= new Symbolizer());
}
