// BPF: BCC's Python `BPF` class in TypeScript. Compiles BCC C with the dialect compiler, loads the object,
// attaches the autoload functions, and hands out tables, trace_pipe readers and event readers.
import { readFile } from "node:fs/promises";
import { compileDialect, type DialectMetadata } from "../dialect/index.js";
import { parseObject, LoadedObject, ProgType, MapType } from "../loader/index.js";
import { attachTracepoint, attachRawTracepoint, attachKprobe, attachKprobeTracefs, removeStaleKprobeEvents, attachBtfProgram,
  attachIter, readIter, AttachError, type Link } from "../link/index.js";
import { kprobeFunctions } from "../kernel/kprobe-functions.js";
import { checkProbeQuota, countProbe, numOpenProbes, probeLimit } from "./probe-quota.js";
import { listTracepoints } from "../kernel/tracefs.js";
import { EventStreams } from "./event-streams.js";
import { fixSyscallFnName, syscallFnName, syscallPrefix } from "../kernel/syscalls.js";
import { createTable, type AnyTable } from "./table-factory.js";
import { btfCodec } from "./table-codec-btf.js";
import { traceReadline, traceFields, tracePrint, traceLines, type TracePrintOptions } from "./tracepipe.js";
import type { KeyValueCodec } from "./table-codec.js";
import { kprobeUnsupported, btfProgramUnsupported } from "./kernel-support.js";
import { haveKprobes, haveFentry, haveLsm, haveRawTracepoints } from "../kernel/features.js";
import { attachUprobe, numOpenUprobes, attachPerfEvent, type PerfEventOptions } from "../link/index.js";
import { planUsdt, attachUsdt, type USDT } from "../usdt/index.js";
import { ErrorCode, TsbccError } from "../errors.js";
import { findLibrary, resolveBinary } from "../symbols/libraries.js";
import { matchUserFunctions, resolveUprobeTargets, type UprobeSpec, type UserFunction } from "../symbols/resolve.js";

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
  /** USDT contexts whose enabled probes are attached to their functions (bpf_usdt_readarg reads their arguments). */
  usdtContexts?: USDT[];
}

export interface BPFFunction {
  name: string;
  fd: number;
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
  readonly #streams: EventStreams;
  #closed = false;

  private constructor(obj: LoadedObject, metadata: DialectMetadata, rewritten: string) {
    this.#obj = obj;
    this.metadata = metadata;
    this.rewritten = rewritten;
    this.#streams = new EventStreams(obj, (name) => this.#eventCodec(name));
  }

  static async load(opts: BPFLoadOptions): Promise<BPF> {
    if ((opts.text === undefined) === (opts.srcFile === undefined)) throw new TypeError("BPF.load: give exactly one of `text` or `srcFile`");
    const usdt = opts.usdtContexts?.length ? planUsdt(opts.usdtContexts) : undefined;
    const text = opts.text ?? (await readFile(opts.srcFile!, "utf8"));
    const compiled = await compileDialect({
      text, fileName: opts.srcFile, cflags: opts.cflags, debug: opts.debug, useKernelHeaders: opts.useKernelHeaders, prelude: usdt?.prelude,
    });
    if ((opts.debug ?? 0) & BPF.DEBUG_PREPROCESSOR) process.stderr.write(compiled.rewritten + "\n");
    const obj = new LoadedObject(parseObject(compiled.object), { logLevel: (opts.debug ?? 0) & BPF.DEBUG_BPF ? 1 : undefined });
    const b = new BPF(obj, compiled.metadata, compiled.rewritten);
    try {
      for (const link of usdt ? attachUsdt(usdt, (fn) => b.loadFunc(fn, ProgType.KPROBE).fd) : []) b.#remember("usdt", link);
      if (opts.autoload !== false) b.#autoload();
    } catch (e) {
      b.close();
      throw e;
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
      } else if (name.startsWith("kfunc__")) {
        this.attachKfunc({ fnName: name });
      } else if (name.startsWith("kretfunc__")) {
        this.attachKretfunc({ fnName: name });
      } else if (name.startsWith("lsm__")) {
        this.attachLsm({ fnName: name });
      } else if (name.startsWith("kprobe__") || name.startsWith("kretprobe__")) {
        if (!haveKprobes().supported) throw kprobeUnsupported(name);
        const ret = name.startsWith("kretprobe__");
        const event = fixSyscallFnName(name.slice(ret ? "kretprobe__".length : "kprobe__".length));
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

  /** BCC's attach_kprobe: `event` (plus `eventOff`), or every traceable function matching `eventRe`. */
  attachKprobe(opts: { event?: string; fnName: string; eventOff?: number; eventRe?: string | RegExp }): this {
    return this.#attachKprobe(opts, false, opts.eventOff ?? 0, 0);
  }

  /** BCC's attach_kretprobe; `maxactive` > 0 goes through tracefs kprobe_events (the PMU cannot set it). */
  attachKretprobe(opts: { event?: string; fnName: string; eventRe?: string | RegExp; maxactive?: number }): this {
    return this.#attachKprobe(opts, true, 0, opts.maxactive ?? 0);
  }

  #attachKprobe(opts: { event?: string; fnName: string; eventRe?: string | RegExp }, retprobe: boolean, offset: number, maxactive: number): this {
    const kind = retprobe ? "kretprobe" : "kprobe";
    if ((opts.event === undefined) === (opts.eventRe === undefined)) throw new TypeError(`attach${retprobe ? "Kret" : "K"}probe: give exactly one of event or eventRe`);
    const keyOf = (ev: string): string => `${kind}:${ev}${offset ? `+${offset}` : ""}`;
    if (!haveKprobes().supported) throw kprobeUnsupported(`${kind}__${opts.event ?? opts.fnName}`);
    removeStaleKprobeEvents(); // Once per process: tracefs probes left by tsbcc processes that were SIGKILLed.
    let events: string[];
    if (opts.eventRe !== undefined) {
      events = kprobeFunctions(opts.eventRe).filter((ev) => !this.#links.has(keyOf(ev)));
      if (events.length === 0) throw new AttachError(`${kind}s matching ${String(opts.eventRe)}`, "no traceable kernel function matches (or all are attached already)");
    } else {
      events = [opts.event!];
      if (this.#links.has(keyOf(opts.event!))) throw new AttachError(`${kind} ${opts.event}`, "already attached by this BPF object");
    }
    checkProbeQuota(events.length);
    const fd = this.loadFunc(opts.fnName, ProgType.KPROBE).fd;
    let firstError: unknown;
    let attached = 0;
    for (const ev of events) {
      let link: Link;
      try {
        link = maxactive > 0 ? attachKprobeTracefs(fd, ev, { retprobe, offset, maxactive }) : attachKprobe(fd, ev, { offset, retprobe });
      } catch (e) {
        // With a pattern, like BCC: skip functions that refuse a probe; fail only when none took one.
        if (opts.eventRe === undefined) throw e;
        firstError ??= e;
        continue;
      }
      link.onClose(countProbe());
      this.#remember(keyOf(ev), link);
      attached++;
    }
    if (attached === 0) throw firstError;
    return this;
  }

  detachKprobe(event: string, eventOff = 0): void {
    this.#detach(`kprobe:${event}${eventOff ? `+${eventOff}` : ""}`, `kprobe ${event}`);
  }

  detachKretprobe(event: string): void {
    this.#detach(`kretprobe:${event}`, `kretprobe ${event}`);
  }

  /** BCC's get_kprobe_functions: traceable kernel functions whose whole name matches `re`. */
  static getKprobeFunctions(re: string | RegExp): string[] {
    return kprobeFunctions(re);
  }
  static getProbeLimit(): number {
    return probeLimit();
  }
  /** Open kprobes of every BPF object in this process (the quota's count). */
  static numOpenKprobes(): number {
    return numOpenProbes();
  }

  /** The program function for a BTF-attached name given with or without its prefix (BCC adds it when missing). */
  #btfFunction(prefix: string, name: string): string {
    if (this.functions.includes(name)) return name;
    const bare = name.startsWith(prefix) ? name.slice(prefix.length) : name;
    const hit = this.functions.find((f) => f === prefix + bare || f === `${prefix}vmlinux__${bare}`) ??
      this.functions.find((f) => f.startsWith(prefix) && f.endsWith(`__${bare}`));
    if (!hit) throw new Error(`no ${prefix}* function for "${name}" in this program (functions: ${this.functions.join(", ") || "none"})`);
    return hit;
  }

  #attachBtf(kind: "kfunc" | "kretfunc" | "kmod_ret" | "lsm", fnName: string): this {
    const name = this.#btfFunction(`${kind}__`, fnName);
    const key = `${kind}:${name}`;
    if (this.#links.has(key)) throw new AttachError(`${kind} ${name}`, "already attached by this BPF object");
    const section = this.metadata.functions.find((f) => f.name === name)?.section ?? "";
    const target = section.slice(section.indexOf("/") + 1) || name;
    let fd: number;
    try {
      fd = this.loadFunc(name, kind === "lsm" ? ProgType.LSM : ProgType.TRACING).fd;
    } catch (e) {
      // Decided by trying: if the feature probe fails too, the kernel refuses the whole program kind.
      const probe = kind === "lsm" ? haveLsm() : haveFentry();
      if (!probe.supported) throw btfProgramUnsupported(kind, target, probe.reason, e);
      throw e;
    }
    this.#remember(key, attachBtfProgram(fd, `${kind} ${target} (${name})`));
    return this;
  }

  /** KFUNC_PROBE (fentry); `fnName` with or without the `kfunc__` prefix. */
  attachKfunc(opts: { fnName: string }): this { return this.#attachBtf("kfunc", opts.fnName); }
  /** KRETFUNC_PROBE (fexit). */
  attachKretfunc(opts: { fnName: string }): this { return this.#attachBtf("kretfunc", opts.fnName); }
  /** KMOD_RET (fmod_ret; never autoloaded, like BCC). */
  attachFmodRet(opts: { fnName: string }): this { return this.#attachBtf("kmod_ret", opts.fnName); }
  /** LSM_PROBE. */
  attachLsm(opts: { fnName: string }): this { return this.#attachBtf("lsm", opts.fnName); }
  detachKfunc(opts: { fnName: string }): void { this.#detachBtf("kfunc", opts.fnName); }
  detachKretfunc(opts: { fnName: string }): void { this.#detachBtf("kretfunc", opts.fnName); }
  detachFmodRet(opts: { fnName: string }): void { this.#detachBtf("kmod_ret", opts.fnName); }
  detachLsm(opts: { fnName: string }): void { this.#detachBtf("lsm", opts.fnName); }

  #detachBtf(kind: string, fnName: string): void {
    const name = this.#btfFunction(`${kind}__`, fnName);
    this.#detach(`${kind}:${name}`, `${kind} ${name}`);
  }

  /** BPF_ITER(target): links the iterator program (once); `readIter` runs it. */
  attachIter(fnName: string): Link {
    const name = this.#btfFunction("bpf_iter__", fnName);
    const existing = this.#links.get(`iter:${name}`)?.[0];
    if (existing) return existing;
    const link = attachIter(this.loadFunc(name, ProgType.TRACING).fd, `iterator ${name}`);
    this.#remember(`iter:${name}`, link);
    return link;
  }

  /** Runs the BPF_ITER program over its target once and returns everything it printed. */
  readIter(fnName: string): string {
    return readIter(this.attachIter(fnName));
  }

  detachIter(fnName: string): void {
    const name = this.#btfFunction("bpf_iter__", fnName);
    this.#detach(`iter:${name}`, `iterator ${name}`);
  }

  /** The prefix this kernel's syscall entry functions carry ("__x64_sys_" on x86_64 since 4.17, else "sys_"). */
  static getSyscallPrefix(): string {
    return syscallPrefix();
  }

  /** The kernel function behind syscall `name` ("getppid" -> "__x64_sys_getppid"): BCC's get_syscall_fnname. */
  static getSyscallFnName(name: string): string {
    return syscallFnName(name);
  }

  /** The typed table for a map (`b.table("counts")`, BCC's `b["counts"]`). */
  table<T extends AnyTable = any>(name: string): T {
    const cached = this.#tables.get(name);
    if (cached) return cached as T;
    const m = this.#obj.maps.get(name);
    if (!m) throw new Error(`no table named "${name}" (tables: ${[...this.#obj.maps.keys()].filter((n) => !n.startsWith(".") && !n.startsWith("__tsbcc_")).join(", ") || "none"})`);
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
    this.#streams.openPerfBuffer(name, cb, opts);
    return this;
  }

  /** Waits up to `timeoutMs` (-1: forever) for events on every open perf buffer, draining them. */
  perfBufferPoll(timeoutMs = -1): Promise<number> {
    return this.#streams.perfBufferPoll(timeoutMs);
  }

  perfBufferConsume(): number {
    return this.#streams.perfBufferConsume();
  }

  /**
   * BCC's open_ring_buffer: `cb(data, size)`; returning a negative number stops the current drain. Unlike BCC,
   * records the program could not write (ring full) are counted and reported to `lostCb(count)`.
   */
  openRingBuffer(name: string, cb: (data: any, size: number) => number | void, opts: { decode?: boolean; lostCb?: (count: number) => void } = {}): this {
    this.#streams.openRingBuffer(name, cb, opts);
    return this;
  }

  /** Checks the ring buffers' drop counters now; returns the total dropped since they were opened. */
  ringBufferLost(): number {
    return this.#streams.ringBufferLost();
  }

  ringBufferPoll(timeoutMs = -1): Promise<number> {
    return this.#streams.ringBufferPoll(timeoutMs);
  }

  ringBufferConsume(): number {
    return this.#streams.ringBufferConsume();
  }

  /** The events of a BPF_PERF_OUTPUT or BPF_RINGBUF_OUTPUT table as an async iterator (see EventStreams.events). */
  events<T = any>(name: string, opts: { decode?: boolean; signal?: AbortSignal; lostCb?: (count: number) => void; pageCnt?: number } = {}):
    AsyncGenerator<T, void, undefined> {
    return this.#streams.events<T>(name, opts);
  }

  /** Runs every open buffer's callbacks straight from the event loop as events arrive; returns the stop function. */
  startPolling(opts: { onError?: (e: unknown) => void; onDrain?: (n: number) => void } = {}): () => void {
    return this.#streams.startPolling(opts);
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
    this.#streams.close();
    for (const links of this.#links.values()) for (const l of links) l.close();
    this.#links.clear();
    this.#obj.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // ---- uprobes and perf events (logic in src/symbols/resolve.ts, src/link/uprobe.ts, src/link/perf-event.ts)

  /** BCC's attach_uprobe: `name` (path, library such as "c", program) + one of sym / symRe / addr; `pid` filters. */
  attachUprobe(opts: UprobeSpec & { fnName: string }): this { return this.#uprobe(opts, false); }
  /** BCC's attach_uretprobe (no symOff). */
  attachUretprobe(opts: UprobeSpec & { fnName: string }): this { return this.#uprobe(opts, true); }
  detachUprobe(opts: UprobeSpec): void { this.#unprobe(opts, false); }
  detachUretprobe(opts: UprobeSpec): void { this.#unprobe(opts, true); }
  /** uprobes (USDT locations included) open in this process. */
  static numOpenUprobes(): number { return numOpenUprobes(); }
  /** BCC's find_library: the file of library `name` ("c" -> /lib/.../libc.so.6), or undefined. */
  static findLibrary(name: string, pid?: number): string | undefined { return findLibrary(name, pid); }
  /** BCC's get_user_functions: names of `name`'s functions whose whole name matches `re`. */
  static getUserFunctions(name: string, re: string | RegExp): string[] { return matchUserFunctions(resolveBinary(name), re).map((f) => f.name); }
  /** BCC's get_user_addresses: their file offsets (what a uprobe is placed at), with names and link-time addresses. */
  static getUserAddresses(name: string, re: string | RegExp): UserFunction[] { return matchUserFunctions(resolveBinary(name), re); }

  #uprobeKeys(opts: UprobeSpec, ret: boolean): { key: string; path: string; offset: bigint }[] {
    if (ret && opts?.symOff) throw new TypeError("attachUretprobe: a uretprobe cannot have symOff");
    const { path, targets } = resolveUprobeTargets(opts);
    const pid = opts.pid && opts.pid > 0 ? opts.pid : -1;
    return targets.map((t) => ({ key: `${ret ? "uretprobe" : "uprobe"}:${path}:${t.offset}:${pid}`, path, offset: t.offset }));
  }

  #uprobe(opts: UprobeSpec & { fnName: string }, ret: boolean): this {
    const keys = this.#uprobeKeys(opts, ret).filter((k, i, all) => opts.symRe === undefined || (!this.#links.has(k.key) && all.findIndex((x) => x.key === k.key) === i));
    for (const k of keys) if (this.#links.has(k.key)) throw new TsbccError(ErrorCode.ATTACH, `cannot attach to ${k.key}: already attached by this BPF object`);
    checkProbeQuota(keys.length);
    const fd = this.loadFunc(opts.fnName, ProgType.KPROBE).fd;
    const links: Link[] = [];
    try {
      for (const k of keys) links.push(attachUprobe(fd, { path: k.path, offset: k.offset, retprobe: ret, pid: opts.pid }));
    } catch (e) {
      for (const l of links) l.close(); // all or nothing
      throw e;
    }
    links.forEach((link, i) => {
      link.onClose(countProbe());
      this.#remember(keys[i]!.key, link);
    });
    return this;
  }

  #unprobe(opts: UprobeSpec, ret: boolean): void {
    for (const k of this.#uprobeKeys(opts, ret)) this.#detach(k.key, k.key);
  }

  /** BCC's attach_perf_event: runs PERF_EVENT program `fnName` every samplePeriod events or sampleFreq times a second. */
  attachPerfEvent(opts: PerfEventOptions & { fnName: string }): this {
    const key = `perf:${opts?.evType}:${opts?.evConfig}`;
    if (this.#links.has(key)) throw new TsbccError(ErrorCode.ATTACH, `cannot attach to ${key}: already attached by this BPF object`);
    this.#remember(key, attachPerfEvent(this.loadFunc(opts.fnName, ProgType.PERF_EVENT).fd, opts));
    return this;
  }
  detachPerfEvent(opts: { evType: number; evConfig: number }): void { this.#detach(`perf:${opts.evType}:${opts.evConfig}`, `perf event ${opts.evType}:${opts.evConfig}`); }
}
