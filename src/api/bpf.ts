// BPF: BCC's Python `BPF` class in TypeScript. Compiles BCC C with the dialect compiler, loads the object,
// attaches the autoload functions, and hands out tables, trace_pipe readers and event readers.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { compileDialect, type DialectMetadata } from "../dialect/index.js";
import { parseObject, LoadedObject, ProgType, MapType } from "../loader/index.js";
import { attachTracepoint, attachRawTracepoint, attachKprobe, AttachError, type Link } from "../link/index.js";
import { listTracepoints } from "../kernel/tracefs.js";
import { openPerfBuffer, RingBufferManager, type PerfBuffer } from "../events/index.js";
import { createTable, type AnyTable } from "./table-factory.js";
import { btfCodec } from "./table-codec-btf.js";
import { traceReadline, traceFields, tracePrint, traceLines, type TracePrintOptions } from "./tracepipe.js";
import type { KeyValueCodec } from "./table-codec.js";
import { kprobeUnsupported } from "./kernel-support.js";
import { haveKprobes, haveFentry, haveLsm, haveRawTracepoints } from "../kernel/features.js";

export interface BPFLoadOptions {
  text?: string;
  srcFile?: string;
  cflags?: string[];
  /** BCC debug flags (DEBUG_PREPROCESSOR = 4 prints the rewritten C; DEBUG_BPF = 2 keeps verifier logs). */
  debug?: number;
  /** Attach tracepoint__*, raw_tracepoint__* (and kprobe__* where supported) functions (default true). */
  autoload?: boolean;
  /** Compile against the real kernel headers instead of BTF-generated types. */
  useKernelHeaders?: boolean;
  /** Reserved for USDT contexts (not supported yet). */
  usdtContexts?: unknown[];
}

export interface BPFFunction {
  name: string;
  fd: number;
}

interface OpenedReader {
  close(): void;
}

export class BPF {
  static readonly SOCKET_FILTER = ProgType.SOCKET_FILTER;
  static readonly KPROBE = ProgType.KPROBE;
  static readonly SCHED_CLS = ProgType.SCHED_CLS;
  static readonly SCHED_ACT = ProgType.SCHED_ACT;
  static readonly TRACEPOINT = ProgType.TRACEPOINT;
  static readonly XDP = ProgType.XDP;
  static readonly PERF_EVENT = ProgType.PERF_EVENT;
  static readonly CGROUP_SKB = ProgType.CGROUP_SKB;
  static readonly RAW_TRACEPOINT = ProgType.RAW_TRACEPOINT;
  static readonly TRACING = ProgType.TRACING;
  static readonly LSM = ProgType.LSM;
  static readonly DEBUG_BPF = 2;
  static readonly DEBUG_PREPROCESSOR = 4;

  /** Feature probes (decided by trying, cached): BCC's support_kfunc() & co. */
  static supportKprobes(): boolean { return haveKprobes().supported; }
  static supportKfunc(): boolean { return haveFentry().supported; }
  static supportLsm(): boolean { return haveLsm().supported; }
  static supportRawTracepoint(): boolean { return haveRawTracepoints().supported; }

  readonly metadata: DialectMetadata;
  /** The rewritten C the object was compiled from (what BCC prints with DEBUG_PREPROCESSOR). */
  readonly rewritten: string;
  readonly #obj: LoadedObject;
  readonly #links = new Map<string, Link[]>();
  readonly #tables = new Map<string, AnyTable>();
  #perfBuffers = new Map<string, PerfBuffer>();
  #ringManager?: RingBufferManager;
  #closed = false;

  private constructor(obj: LoadedObject, metadata: DialectMetadata, rewritten: string) {
    this.#obj = obj;
    this.metadata = metadata;
    this.rewritten = rewritten;
  }

  static async load(opts: BPFLoadOptions): Promise<BPF> {
    if ((opts.text === undefined) === (opts.srcFile === undefined)) throw new TypeError("BPF.load: give exactly one of `text` or `srcFile`");
    if (opts.usdtContexts?.length) throw new Error("BPF.load: USDT contexts are not supported yet");
    const text = opts.text ?? (await readFile(opts.srcFile!, "utf8"));
    const compiled = await compileDialect({
      text, fileName: opts.srcFile, cflags: opts.cflags, debug: opts.debug, useKernelHeaders: opts.useKernelHeaders,
    });
    if ((opts.debug ?? 0) & BPF.DEBUG_PREPROCESSOR) process.stderr.write(compiled.rewritten + "\n");
    const obj = new LoadedObject(parseObject(compiled.object), { logLevel: (opts.debug ?? 0) & BPF.DEBUG_BPF ? 1 : undefined });
    const b = new BPF(obj, compiled.metadata, compiled.rewritten);
    if (opts.autoload !== false) {
      try {
        b.#autoload();
      } catch (e) {
        b.close();
        throw e;
      }
    }
    return b;
  }

  /** Every program function of the object, in source order. */
  get functions(): string[] {
    return this.metadata.functions.map((f) => f.name);
  }

  #autoload(): void {
    for (const name of this.functions) {
      if (name.startsWith("tracepoint__")) {
        const rest = name.slice("tracepoint__".length);
        const cut = rest.lastIndexOf("__");
        this.attachTracepoint({ tp: `${rest.slice(0, cut)}:${rest.slice(cut + 2)}`, fnName: name });
      } else if (name.startsWith("raw_tracepoint__")) {
        this.attachRawTracepoint({ tp: name.slice("raw_tracepoint__".length), fnName: name });
      } else if (name.startsWith("kprobe__") || name.startsWith("kretprobe__")) {
        if (!haveKprobes().supported) throw kprobeUnsupported(name);
        const ret = name.startsWith("kretprobe__");
        const event = BPF.#fixSyscallFnName(name.slice(ret ? "kretprobe__".length : "kprobe__".length));
        if (ret) this.attachKretprobe({ event, fnName: name });
        else this.attachKprobe({ event, fnName: name });
      }
    }
  }

  /** BCC's load_func: loads `name` as `progType` (once) and returns its fd. */
  loadFunc(name: string, progType: number): BPFFunction {
    if (!this.functions.includes(name)) {
      throw new Error(`no function "${name}" in this program (functions: ${this.functions.join(", ") || "none"})`);
    }
    return { name, fd: this.#obj.loadProgram(name, progType).fd.value };
  }

  #remember(key: string, link: Link): void {
    const list = this.#links.get(key) ?? [];
    list.push(link);
    this.#links.set(key, list);
  }

  attachTracepoint(opts: { tp?: string; tpRe?: string | RegExp; fnName: string }): this {
    const fd = this.loadFunc(opts.fnName, ProgType.TRACEPOINT).fd;
    // BCC matches tp_re with re.match: anchored at the start only.
    const re = opts.tpRe === undefined ? undefined : new RegExp(`^(?:${typeof opts.tpRe === "string" ? opts.tpRe : opts.tpRe.source})`);
    const targets = re ? listTracepoints(re) : [opts.tp ?? ""];
    if (opts.tpRe !== undefined && targets.length === 0) throw new AttachError(`tracepoints matching ${String(opts.tpRe)}`, "none found");
    for (const tp of targets) {
      const [cat, evt] = tp.split(":");
      if (!cat || !evt) throw new TypeError(`attachTracepoint: tp must be "category:event", got "${tp}"`);
      this.#remember(`tp:${tp}`, attachTracepoint(fd, cat, evt));
    }
    return this;
  }

  detachTracepoint(tp: string): void {
    this.#detach(`tp:${tp}`, `tracepoint ${tp}`);
  }

  attachRawTracepoint(opts: { tp: string; fnName: string }): this {
    if (this.#links.has(`raw:${opts.tp}`)) throw new AttachError(`raw tracepoint ${opts.tp}`, "already attached by this BPF object");
    const fd = this.loadFunc(opts.fnName, ProgType.RAW_TRACEPOINT).fd;
    this.#remember(`raw:${opts.tp}`, attachRawTracepoint(fd, opts.tp));
    return this;
  }

  detachRawTracepoint(tp: string): void {
    this.#detach(`raw:${tp}`, `raw tracepoint ${tp}`);
  }

  #detach(key: string, what: string): void {
    const links = this.#links.get(key);
    if (!links) throw new Error(`${what} is not attached`);
    for (const l of links) l.close();
    this.#links.delete(key);
  }

  attachKprobe(opts: { event: string; fnName: string; eventOff?: number }): this {
    return this.#attachKprobe(opts.event, opts.fnName, false, opts.eventOff ?? 0);
  }

  attachKretprobe(opts: { event: string; fnName: string }): this {
    return this.#attachKprobe(opts.event, opts.fnName, true, 0);
  }

  #attachKprobe(event: string, fnName: string, retprobe: boolean, offset: number): this {
    const kind = retprobe ? "kretprobe" : "kprobe";
    const key = `${kind}:${event}${offset ? `+${offset}` : ""}`;
    if (this.#links.has(key)) throw new AttachError(`${kind} ${event}`, "already attached by this BPF object");
    if (!haveKprobes().supported) throw kprobeUnsupported(`${kind}__${event}`);
    const fd = this.loadFunc(fnName, ProgType.KPROBE).fd;
    this.#remember(key, attachKprobe(fd, event, { offset, retprobe }));
    return this;
  }

  detachKprobe(event: string, eventOff = 0): void {
    this.#detach(`kprobe:${event}${eventOff ? `+${eventOff}` : ""}`, `kprobe ${event}`);
  }

  detachKretprobe(event: string): void {
    this.#detach(`kretprobe:${event}`, `kretprobe ${event}`);
  }

  static #syscallPrefix?: string;
  static readonly #SYSCALL_PREFIXES = ["__x64_sys_", "sys_"];

  /** The prefix this kernel's syscall entry functions carry ("__x64_sys_" on x86_64 since 4.17, else "sys_"). */
  static getSyscallPrefix(): string {
    if (BPF.#syscallPrefix !== undefined) return BPF.#syscallPrefix;
    let syms = "";
    try {
      syms = readFileSync("/proc/kallsyms", "utf8");
    } catch {
      // Unreadable: assume the classic names.
    }
    const found = BPF.#SYSCALL_PREFIXES.find((p) => new RegExp(`^\\S+ [TtWw] ${p}bpf$`, "m").test(syms));
    return (BPF.#syscallPrefix = found ?? "sys_");
  }

  /** The kernel function behind syscall `name` ("getppid" -> "__x64_sys_getppid"): BCC's get_syscall_fnname. */
  static getSyscallFnName(name: string): string {
    return BPF.getSyscallPrefix() + name;
  }

  /** `sys_x` / `__x64_sys_x` written in a program -> the running kernel's name for it; other names unchanged. */
  static #fixSyscallFnName(name: string): string {
    const p = BPF.#SYSCALL_PREFIXES.find((q) => name.startsWith(q));
    return p ? BPF.getSyscallFnName(name.slice(p.length)) : name;
  }

  /** The typed table for a map (`b.table("counts")`, BCC's `b["counts"]`). */
  table<T extends AnyTable = any>(name: string): T {
    const cached = this.#tables.get(name);
    if (cached) return cached as T;
    const m = this.#obj.maps.get(name);
    if (!m) throw new Error(`no table named "${name}" (tables: ${[...this.#obj.maps.keys()].filter((n) => !n.startsWith(".")).join(", ") || "none"})`);
    const btf = this.#obj.spec.btf?.btf;
    const s = m.spec;
    const codec = (id: number): KeyValueCodec | undefined => (btf && id ? btfCodec(btf, id) : undefined);
    const table = createTable(
      { name, mapType: s.type, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, flags: s.flags },
      m.fd, { key: codec(s.btfKeyTypeId), value: codec(s.btfValueTypeId) },
    );
    const eventType = this.metadata.events[name];
    if (eventType && btf) {
      const decode = this.#eventCodec(name);
      Object.assign(table, { event: (data: Uint8Array) => decode.decode(data, 0) });
    }
    this.#tables.set(name, table);
    return table as T;
  }

  getTable<T extends AnyTable = any>(name: string): T {
    return this.table<T>(name);
  }

  #eventCodec(mapName: string): KeyValueCodec {
    const typeName = this.metadata.events[mapName];
    const btf = this.#obj.spec.btf?.btf;
    if (!typeName || !btf) throw new Error(`no event type is known for "${mapName}": it is not the target of perf_submit/ringbuf_output`);
    const [kind, ...rest] = typeName.trim().split(/\s+/);
    const id = kind === "struct" || kind === "union" ? btf.findIds(kind, rest.join(" "))[0] : btf.findIds("typedef", typeName)[0];
    if (!id) throw new Error(`event type "${typeName}" of "${mapName}" is not in the program's BTF`);
    return btfCodec(btf, id);
  }

  /** BCC's open_perf_buffer: `cb(cpu, data, size)`; decode with `b.table(name).event(data)` or use `decode: true`. */
  openPerfBuffer(name: string, cb: (cpu: number, data: any, size: number) => void,
    opts: { pageCnt?: number; lostCb?: (count: number, cpu: number) => void; wakeupEvents?: number; decode?: boolean } = {}): this {
    const m = this.#obj.maps.get(name);
    if (!m || m.spec.type !== MapType.PERF_EVENT_ARRAY) throw new Error(`"${name}" is not a BPF_PERF_OUTPUT table`);
    if (this.#perfBuffers.has(name)) throw new Error(`a perf buffer is already open on "${name}"`);
    const decoder = opts.decode ? this.#eventCodec(name) : undefined;
    const reader = openPerfBuffer(m.fd.value, decoder ? (cpu, data, size) => cb(cpu, decoder.decode(data, 0), size) : cb, {
      pageCnt: opts.pageCnt, wakeupEvents: opts.wakeupEvents,
      lostCb: opts.lostCb ? (cpu, count) => opts.lostCb!(count, cpu) : undefined,
    });
    this.#perfBuffers.set(name, reader);
    return this;
  }

  /** Waits up to `timeoutMs` (-1: forever) for events on every open perf buffer, draining them. */
  async perfBufferPoll(timeoutMs = -1): Promise<number> {
    const readers = [...this.#perfBuffers.values()];
    if (readers.length === 0) throw new Error("no perf buffer is open (call openPerfBuffer first)");
    const counts = await Promise.all(readers.map((r) => r.poll(timeoutMs)));
    return counts.reduce((a, b) => a + b, 0);
  }

  perfBufferConsume(): number {
    return [...this.#perfBuffers.values()].reduce((n, r) => n + r.consume(), 0);
  }

  /** BCC's open_ring_buffer: `cb(data, size)`; returning a negative number stops the current drain. */
  openRingBuffer(name: string, cb: (data: any, size: number) => number | void, opts: { decode?: boolean } = {}): this {
    const m = this.#obj.maps.get(name);
    if (!m || m.spec.type !== MapType.RINGBUF) throw new Error(`"${name}" is not a BPF_RINGBUF_OUTPUT table`);
    const decoder = opts.decode ? this.#eventCodec(name) : undefined;
    this.#ringManager ??= new RingBufferManager();
    this.#ringManager.add(m.fd.value, decoder ? (data, size) => cb(decoder.decode(data, 0), size) : cb);
    return this;
  }

  async ringBufferPoll(timeoutMs = -1): Promise<number> {
    if (!this.#ringManager) throw new Error("no ring buffer is open (call openRingBuffer first)");
    return this.#ringManager.poll(timeoutMs);
  }

  ringBufferConsume(): number {
    if (!this.#ringManager) throw new Error("no ring buffer is open (call openRingBuffer first)");
    return this.#ringManager.consume();
  }

  /** trace_pipe lines as they come (bpf_trace_printk output). */
  traceLines(signal?: AbortSignal): AsyncGenerator<string> {
    return traceLines(signal);
  }
  traceFields(signal?: AbortSignal) {
    return traceFields(signal);
  }
  traceReadline(opts: { nonblocking?: boolean; signal?: AbortSignal } = {}): Promise<string | null> {
    return traceReadline(opts);
  }
  /** Prints trace_pipe lines (or `fmt` with {0}..{5} = task, pid, cpu, flags, ts, msg) until aborted. */
  tracePrint(fmt?: string, opts?: TracePrintOptions): Promise<void> {
    return tracePrint(fmt, opts);
  }

  /** Detaches everything, closes readers, programs and maps. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.#perfBuffers.values()) (r as OpenedReader).close();
    this.#perfBuffers.clear();
    this.#ringManager?.close();
    for (const links of this.#links.values()) for (const l of links) l.close();
    this.#links.clear();
    this.#obj.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
