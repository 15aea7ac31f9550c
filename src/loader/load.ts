// ObjectSpec -> kernel objects. Creates BTF, maps (with their initial data) and loads programs on demand.
// This is the only loader step that depends on the running kernel.
import { ArgumentError, ClosedError, ErrorCode, NoSuchFunctionError, TsbccError } from "../errors.js";
import { bpf, SyscallError, type Fd } from "../sys/index.js";
import { numPossibleCpus } from "../kernel/cpus.js";
import { linuxVersionCode } from "../kernel/release.js";
import { LibbpfPin, MapType, ProgType, mapTypeName, progTypeName } from "../sys/abi.js";
import { openOrPin } from "./pin.js";
import { borrowTable, lendTable, type TableShare } from "./shared-tables.js";
import { linkProgram } from "./link-program.js";
import { loadProgram, type SourceLine } from "./verifier.js";
import { resolveBtfTarget, type BtfTarget } from "./btf-target.js";
import type { MapSpec } from "./map-spec.js";
import type { LoadRecords } from "../btf/ext.js";
import type { ObjectSpec, ProgramSpec } from "./spec.js";

export class MapCreateError extends TsbccError {
  readonly map: string;
  readonly errno: number;
  constructor(map: MapSpec, cause: SyscallError) {
    super(cause.code === ErrorCode.PERMISSION ? ErrorCode.PERMISSION : ErrorCode.MAP_CREATE, `cannot create map "${map.name}" (${mapTypeName(map.type)}, key ${map.keySize} B, value ${map.valueSize} B, ` +
      `${map.maxEntries} entries): ${cause.errnoCode}${mapHint(cause.errnoCode, map)}`, { cause });
    this.map = map.name;
    this.errno = cause.errno;
  }
}

function mapHint(code: string, m: MapSpec): string {
  if (code === "EPERM") return process.getuid?.() === 0 ? " (refused by the kernel: lockdown or a security module?)" : " (creating BPF maps needs root or CAP_BPF)";
  if (code === "EINVAL") return m.type === MapType.RINGBUF ? " (ring buffer size must be a power of two multiple of the page size)" : " (this kernel rejects these map attributes)";
  if (code === "ENOMEM") return " (not enough locked memory: lower max_entries)";
  return "";
}

export interface LoadedMap {
  spec: MapSpec;
  fd: Fd;
}

export interface LoadOptions {
  /** Values for global variables (`const volatile` in .rodata, or .data/.bss), by symbol name. */
  constants?: Record<string, number | bigint | boolean | Uint8Array>;
  /** Log level for every program load (1: verifier, 2: register states); the log is kept on the program. */
  logLevel?: number;
  /** Map name -> pin path (BCC's BPF_TABLE_PINNED): the pinned map is opened, or created and pinned. */
  pinned?: Record<string, string>;
  /** Directory for maps with libbpf's `pinning = LIBBPF_PIN_BY_NAME` (default /sys/fs/bpf). */
  pinRoot?: string;
  /**
   * Map name -> "public" / "shared" (lent to other modules of this process: BPF_TABLE_PUBLIC / _SHARED) or
   * "extern" (no map is created: the lent table of that name is used; src/loader/shared-tables.ts).
   */
  shared?: Record<string, TableShare>;
  /** The maps namespace of "shared" and "extern" tables (BCC's maps_ns; default ""). */
  mapsNamespace?: string;
  /**
   * The C source the object was compiled from, for verifier errors: clang leaves the line text of BTF line info
   * empty when the file is named by a #line directive (as the dialect compiler does), so it is taken from here.
   */
  source?: { file: string; text: string };
}

export class LoadedObject {
  readonly spec: ObjectSpec;
  readonly maps = new Map<string, LoadedMap>();
  readonly btfFd?: Fd;
  readonly #programs = new Map<string, { fd: Fd; type: number; log?: string }>();
  #closed = false;
  readonly #options: LoadOptions;
  /** Release functions of the tables this object lends or borrows (shared-tables.ts). */
  readonly #sharing: (() => void)[] = [];

  constructor(spec: ObjectSpec, options: LoadOptions = {}) {
    this.spec = spec;
    this.#options = options;
    checkConstants(spec, options.constants); // before anything exists in the kernel
    if (spec.btf) {
      // Maps and programs work without BTF (just untyped); a kernel that rejects our BTF must not stop the load.
      const res = bpf.btfLoad(spec.btf.raw);
      this.btfFd = res.fd;
    }
    try {
      const ns = options.mapsNamespace ?? "";
      for (const m of spec.maps) {
        const share = options.shared?.[m.name];
        if (share === "extern") {
          const borrowed = borrowTable(m, ns);
          this.#sharing.push(borrowed.release);
          this.maps.set(m.name, { spec: borrowed.spec, fd: borrowed.fd });
          continue;
        }
        const path = options.pinned?.[m.name] ?? (m.pinning === LibbpfPin.BY_NAME ? `${options.pinRoot ?? "/sys/fs/bpf"}/${m.name}` : undefined);
        const fd = path ? openOrPin(m, path, () => this.#createMap(m)) : this.#createMap(m);
        this.maps.set(m.name, { spec: m, fd });
        if (share === "public" || share === "shared") this.#sharing.push(lendTable(m, share, ns, fd));
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  #createMap(m: MapSpec): Fd {
    let maxEntries = m.maxEntries;
    if (m.type === MapType.PERF_EVENT_ARRAY && maxEntries === 0) maxEntries = numPossibleCpus();
    let inner: Fd | undefined;
    if (m.inner) inner = this.#createMap(m.inner);
    const attr: bpf.MapCreateAttr = {
      mapType: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries, flags: m.flags,
      innerMapFd: inner?.value, name: kernelObjectName(m.name), mapExtra: m.mapExtra,
    };
    let fd: Fd;
    try {
      const typed = this.btfFd && (m.btfKeyTypeId || m.btfValueTypeId) && hasBtfKeyValue(m.type);
      try {
        fd = bpf.mapCreate(typed ? { ...attr, btfFd: this.btfFd!.value, btfKeyTypeId: m.btfKeyTypeId, btfValueTypeId: m.btfValueTypeId } : attr);
      } catch (e) {
        if (!typed || !(e instanceof SyscallError) || e.errnoCode !== "EINVAL") throw e;
        fd = bpf.mapCreate(attr); // Some map types refuse BTF key/value ids; they work untyped.
      }
    } catch (e) {
      if (e instanceof SyscallError) throw new MapCreateError(m, e);
      throw e;
    } finally {
      inner?.close();
    }
    try {
      if (m.initialData || this.#options.constants) this.#fillGlobals(m, fd);
    } catch (e) {
      fd.close(); // not yet in this.maps, so close() would not find it
      throw e;
    }
    return fd;
  }

  #fillGlobals(m: MapSpec, fd: Fd): void {
    if (!m.initialData && !Object.keys(this.#options.constants ?? {}).some((k) => this.spec.globals.get(k)?.map === m.name)) return;
    if (m.initialData && m.initialData.byteLength > m.valueSize) {
      throw new TsbccError(ErrorCode.BAD_ELF, `section of map "${m.name}" holds ${m.initialData.byteLength} bytes, more than its value size ${m.valueSize}`);
    }
    const value = new Uint8Array(m.valueSize);
    if (m.initialData) value.set(m.initialData);
    for (const [name, v] of Object.entries(this.#options.constants ?? {})) {
      const g = this.spec.globals.get(name);
      if (!g || g.map !== m.name) continue;
      if (g.offset + g.size > m.valueSize) {
        throw new TsbccError(ErrorCode.BAD_ELF, `global "${name}" (offset ${g.offset}, ${g.size} bytes) lies outside map "${m.name}" (${m.valueSize} bytes)`);
      }
      value.set(encodeConstant(name, v, g.size), g.offset);
    }
    bpf.mapUpdate(fd.value, new Uint8Array(4), value);
    if (m.freeze) bpf.mapFreeze(fd.value);
  }

  programSpec(name: string): ProgramSpec {
    const p = this.spec.programs.find((x) => x.name === name);
    if (!p) {
      throw new NoSuchFunctionError(name, this.spec.programs.map((x) => x.name), `no program named "${name}" in this object`);
    }
    return p;
  }

  /** Loads (once) the named program; `progType` overrides the type implied by its section (BCC's load_func). */
  loadProgram(name: string, progType?: number, extra: Partial<bpf.ProgLoadAttr> = {}): { fd: Fd; type: number; log?: string } {
    if (this.#closed) throw new ClosedError("BPF object");
    const prog = this.programSpec(name);
    const type = progType ?? prog.kind.progType;
    const cached = this.#programs.get(name);
    if (cached && cached.type === type) return cached;
    if (type === ProgType.UNSPEC) {
      throw new ArgumentError("progType", `program "${name}" (section "${prog.section}") has no known type: give one (e.g. loadFunc("${name}", BPF.KPROBE))`);
    }
    const linked = linkProgram(this.spec, prog, (map) => {
      const m = this.maps.get(map);
      if (!m) throw new TsbccError(ErrorCode.BAD_ELF, `program "${name}" uses map "${map}", which was not created`);
      return m.fd.value;
    });
    const ext = this.spec.btf?.ext;
    const withBtf = this.btfFd && linked.funcInfo;
    const expectedAttachType = extra.expectedAttachType ??
      (progType === undefined || progType === prog.kind.progType ? prog.kind.expectedAttachType : 0);
    // BTF-attached programs name their kernel target at load time; resolve it unless the caller gave one.
    let target: BtfTarget | undefined;
    if ((type === ProgType.TRACING || type === ProgType.LSM) && !extra.attachBtfId && !extra.attachProgFd) {
      target = resolveBtfTarget(expectedAttachType, prog.kind.target);
    }
    const attr: bpf.ProgLoadAttr = {
      progType: type, insns: linked.insns, license: this.spec.license || "GPL", name: kernelObjectName(name),
      expectedAttachType,
      kernVersion: this.spec.kernVersion || linuxVersionCode(),
      ...(withBtf ? { btfFd: this.btfFd!.value, funcInfo: toAttr(linked.funcInfo), lineInfo: toAttr(linked.lineInfo) } : {}),
      ...(target ? { attachBtfId: target.btfId, attachBtfObjFd: target.objFd?.value } : {}),
      ...extra,
    };
    const sourceOf = (insn: number): SourceLine | undefined => {
      const o = linked.origin(insn);
      const l = ext?.sourceLine(o.section, o.offset);
      return l ? { file: l.file, line: l.line, column: l.column, text: l.text || this.#sourceLineText(l.file, l.line) } : undefined;
    };
    let loaded;
    try {
      loaded = loadProgram({ name, attr, logLevel: this.#options.logLevel, sourceOf });
    } finally {
      target?.objFd?.close(); // The loaded program holds its own reference to the module's BTF.
    }
    const entry = { fd: loaded.fd, type, log: loaded.log };
    cached?.fd.close();
    this.#programs.set(name, entry);
    return entry;
  }

  /** The C source given in the options (for errors that point at the user's line). */
  get source(): { file: string; text: string } | undefined {
    return this.#options.source;
  }

  #sourceLineText(file: string, line: number): string {
    const src = this.#options.source;
    if (!src || src.file !== file || line < 1) return "";
    return src.text.split("\n")[line - 1] ?? "";
  }

  loadedProgram(name: string): { fd: Fd; type: number } | undefined {
    return this.#programs.get(name);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#programs.values()) p.fd.close();
    this.#programs.clear();
    for (const m of this.maps.values()) m.fd.close();
    for (const release of this.#sharing.splice(0)) release();
    this.btfFd?.close();
  }
}

function toAttr(r: LoadRecords | undefined): { recSize: number; bytes: Uint8Array; count: number } | undefined {
  return r && { recSize: r.recordSize, bytes: r.bytes, count: r.count };
}

/** Kernel object names: at most 15 bytes of [A-Za-z0-9_.]. */
export function kernelObjectName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 15);
}

function hasBtfKeyValue(type: number): boolean {
  // These map types take no BTF key/value ids (the kernel rejects them with EINVAL).
  const untyped: number[] = [MapType.PERF_EVENT_ARRAY, MapType.RINGBUF, MapType.PROG_ARRAY, MapType.CGROUP_ARRAY,
    MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS, MapType.STACK_TRACE, MapType.DEVMAP, MapType.CPUMAP,
    MapType.XSKMAP, MapType.SOCKMAP, MapType.SOCKHASH, MapType.QUEUE, MapType.STACK, MapType.USER_RINGBUF];
  return !untyped.includes(type);
}

/** Every constant names a global of the object and holds a value of a usable type; sizes are checked per global. */
function checkConstants(spec: ObjectSpec, constants: LoadOptions["constants"]): void {
  if (constants === undefined) return;
  if (typeof constants !== "object" || constants === null) throw new ArgumentError("constants", "must be an object of name -> value");
  for (const [name, v] of Object.entries(constants)) {
    const g = spec.globals.get(name);
    if (!g) {
      const known = [...spec.globals.keys()].sort();
      throw new ArgumentError("constants", `unknown constant "${name}" (known: ${known.join(", ") || "none: the object has no globals"})`);
    }
    encodeConstant(name, v, g.size);
  }
}

function encodeConstant(name: string, v: unknown, size: number): Uint8Array {
  const bytes = (n: number) => `${n} byte${n === 1 ? "" : "s"}`;
  if (v instanceof Uint8Array) {
    if (v.byteLength !== size) throw new ArgumentError("constants", `constant "${name}" is ${bytes(size)}; got ${bytes(v.byteLength)}`);
    return v;
  }
  if (typeof v === "number" && !Number.isSafeInteger(v)) {
    throw new ArgumentError("constants", `constant "${name}" must be an integer (a safe one, or a bigint); got ${String(v)}`);
  }
  if (typeof v !== "number" && typeof v !== "bigint" && typeof v !== "boolean") {
    throw new ArgumentError("constants", `constant "${name}" must be a number, bigint, boolean or Uint8Array; got ${typeof v}`);
  }
  if (!Number.isInteger(size) || size < 1 || size > 8) {
    throw new ArgumentError("constants", `constant "${name}" is ${bytes(size)}: give its value as a Uint8Array`);
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const n = typeof v === "boolean" ? (v ? 1n : 0n) : BigInt(v);
  const bits = BigInt(size * 8);
  if (n >= 1n << bits || n < -(1n << (bits - 1n))) {
    throw new ArgumentError("constants", `constant "${name}" (${bytes(size)}) cannot hold ${String(v)}`);
  }
  const u = BigInt.asUintN(Number(bits), n);
  for (let i = 0; i < size; i++) view.setUint8(i, Number((u >> BigInt(8 * i)) & 0xffn));
  return out;
}

export { progTypeName };
