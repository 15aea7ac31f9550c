// BPF: BCC's Python `BPF` class in TypeScript. Compiles BCC C with the dialect compiler, loads the object,
// attaches the autoload functions, and hands out tables, trace_pipe readers and event readers. Attachments live
// in attachments.ts and event readers in event-streams.ts; this class is BCC's names over them,
// and its constants and static kernel queries come from bpf-class-api.ts.
import { readFile } from "node:fs/promises";
import { compileDialect, type DialectMetadata } from "../dialect/index.js";
import { parseObject, LoadedObject, ProgType } from "../loader/index.js";
import type { Link } from "../link/index.js";
import { EventStreams } from "./event-streams.js";
import { Attachments } from "./attachments.js";
import type { AnyTable } from "./tables/factory.js";
import type { Reducer } from "./tables/percpu.js";
import { tableOf, typeCodec, userTableNames } from "./tables/from-object.js";
import { PerfEventArrayTable, RingBufTable, type PerfBufferCallback, type PerfBufferOptions, type RingBufferCallback,
  type RingBufferOptions } from "./tables/special.js";
import { BPFClassApi } from "./bpf-class-api.js";
import { disassemble } from "./disassemble.js";
import { attributed } from "./origin.js";
import { locatedAt } from "./user-lines.js";
import { Table } from "./tables/table.js";
import { bpf } from "../sys/index.js";
import { mapTypeName } from "../sys/abi.js";
import { traceReadline, traceFields, tracePrint, traceLines, type TracePrintOptions } from "./tracepipe.js";
import type { KeyValueCodec } from "./tables/codec.js";
import { ArgumentError, ErrorCode, NoSuchFunctionError, TsbccError, UnsupportedError } from "../errors.js";
import { defaultSymbolizer, symbolizeStack, type SymOptions, type StackSymOptions, type WalkableStackTable } from "../symbols/index.js";
import type { PerfEventOptions } from "../link/index.js";
import { planUsdt, type USDT } from "../usdt/index.js";
import type { UprobeSpec } from "../symbols/resolve.js";
import { perfEventOptionsFromAttr, UserProbes, type PerfEventRawAttr } from "./user-probes.js";
import * as net from "../net/bpf-api.js";
import { netHost } from "./net-attachments.js";

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
  /** BCC's maps_ns: where BPF_TABLE_SHARED tables are lent and BPF_TABLE("extern") tables looked up first (default ""). */
  mapsNamespace?: string;
  /**
   * Who wrote the program, when it is not the caller's own: tools pass e.g. "tsbcc's execsnoop tool", and
   * compile, verifier and map errors then say the program is embedded there rather than pointing at "<text>".
   */
  origin?: string;
  /**
   * Values for the program's `const volatile` globals, by name, set before the programs are verified (libbpf's
   * read-only data): the verifier sees them as constants and prunes what they switch off. Unlike `cflags`
   * (`-DPID=...`), a new value needs no new compile, so a cached object serves every value.
   */
  constants?: Record<string, number | bigint | boolean | Uint8Array>;
}

export interface BPFFunction {
  name: string;
  fd: number;
}

export class BPF extends BPFClassApi {

  readonly metadata: DialectMetadata;
  /** The rewritten C the object was compiled from (what BCC prints with DEBUG_PREPROCESSOR). */
  readonly rewritten: string;
  readonly #obj: LoadedObject;
  readonly #attach: Attachments;
  readonly #user: UserProbes;
  readonly #net: net.NetHost;
  readonly #tables = new Map<string, AnyTable>();
  readonly #streams: EventStreams;
  #closed = false;

  private constructor(obj: LoadedObject, metadata: DialectMetadata, rewritten: string) {
    super();
    this.#obj = obj;
    this.metadata = metadata;
    this.rewritten = rewritten;
    this.#streams = new EventStreams(obj, (name) => this.#eventCodec(name));
    this.#attach = new Attachments(obj, metadata.functions);
    this.#user = new UserProbes(this.#attach);
    this.#net = netHost(obj, this.functions, this.#attach);
  }

  static async load(opts: BPFLoadOptions): Promise<BPF> {
    if (typeof opts !== "object" || opts === null) throw new ArgumentError("opts", "BPF.load needs an options object ({ text } or { srcFile })");
    if ((opts.text === undefined) === (opts.srcFile === undefined)) throw new ArgumentError("text", "give exactly one of `text` or `srcFile`");
    if (opts.text !== undefined && typeof opts.text !== "string") throw new ArgumentError("text", "must be a string of BCC C");
    if (opts.cflags !== undefined && !(Array.isArray(opts.cflags) && opts.cflags.every((f) => typeof f === "string"))) {
      throw new ArgumentError("cflags", "must be an array of strings");
    }
    if (opts.debug !== undefined && !Number.isInteger(opts.debug)) throw new ArgumentError("debug", "must be an integer of DEBUG_* flags");
    if (opts.mapsNamespace !== undefined && typeof opts.mapsNamespace !== "string") throw new ArgumentError("mapsNamespace", "must be a string");
    if (opts.origin !== undefined && typeof opts.origin !== "string") throw new ArgumentError("origin", "must be a string naming who wrote the program");
    if (opts.constants !== undefined && (typeof opts.constants !== "object" || opts.constants === null || Array.isArray(opts.constants))) {
      throw new ArgumentError("constants", "must be an object of const volatile global name -> value");
    }
    const usdt = opts.usdtContexts?.length ? planUsdt(opts.usdtContexts) : undefined;
    const text = opts.text ?? (await readSource(opts.srcFile!));
    const compiled = await compileDialect({
      text, fileName: opts.srcFile, cflags: opts.cflags, debug: opts.debug, useKernelHeaders: opts.useKernelHeaders, prelude: usdt?.prelude,
    }).catch((e: unknown) => { throw attributed(e, opts.origin); });
    if ((opts.debug ?? 0) & BPF.DEBUG_PREPROCESSOR) process.stderr.write(compiled.rewritten + "\n");
    let obj: LoadedObject;
    try {
      obj = new LoadedObject(parseObject(compiled.object), {
        logLevel: debugLogLevel(opts.debug ?? 0), pinned: compiled.metadata.pinned, shared: compiled.metadata.shared,
        mapsNamespace: opts.mapsNamespace, source: { file: opts.srcFile ?? "<text>", text }, constants: opts.constants,
      });
    } catch (e) {
      const map = (e as { map?: unknown }).map;
      throw attributed(typeof map === "string" ? locatedAt(e, { file: opts.srcFile ?? "<text>", text }, { map }) : e, opts.origin);
    }
    const b = new BPF(obj, compiled.metadata, compiled.rewritten);
    try {
      if (usdt) b.#user.attachUsdt(usdt);
      if (opts.autoload !== false) b.#attach.autoload();
    } catch (e) {
      b.close();
      throw attributed(e, opts.origin);
    }
    return b;
  }

  /** Every program function of the object, in source order. */
  get functions(): string[] {
    return this.metadata.functions.map((f) => f.name);
  }

  /** BCC's load_func: loads `name` as `progType` (once) and returns its fd. */
  loadFunc(name: string, progType: number): BPFFunction {
    return { name, fd: this.#attach.loadFunc(name, progType) };
  }

  /** BCC's load_funcs: loads every program function as `progType` (default KPROBE). */
  loadFuncs(progType: number = ProgType.KPROBE): BPFFunction[] {
    return this.functions.map((name) => this.loadFunc(name, progType));
  }

  /** BCC's dump_func: the program's instructions as the loader would load them, before map fds are patched in. */
  dumpFunc(name: string): Uint8Array {
    if (!this.functions.includes(name)) throw new NoSuchFunctionError(name, this.functions);
    return this.#obj.programSpec(name).insns.slice();
  }

  /** BCC's disassemble_func: the program's instructions as text, in the verifier log's notation. */
  disassembleFunc(name: string): string {
    return disassemble(name, this.dumpFunc(name));
  }

  /** BCC's decode_table: the map's type, fd, id and key/value layout. */
  decodeTable(name: string): string {
    const t = this.table(name);
    const info = bpf.mapInfo(t.fd.value);
    const kv = t instanceof Table ? [`  key: ${t.keyType}`, `  value: ${t.valueType}`] : [];
    return [`Layout of BPF map ${name} (type ${mapTypeName(info.type)}, FD ${t.fd.value}, ID ${info.id}):`, ...kv].join("\n");
  }

  attachTracepoint(opts: { tp?: string; tpRe?: string | RegExp; fnName: string }): this {
    this.#attach.attachTracepoint(opts);
    return this;
  }
  detachTracepoint(tp: string): void {
    this.#attach.detach(`tp:${tp}`, `tracepoint ${tp}`);
  }
  /** BCC's num_open_tracepoints: tracepoints this object has attached. */
  numOpenTracepoints(): number {
    return this.#attach.openTracepoints;
  }

  attachRawTracepoint(opts: { tp: string; fnName: string }): this {
    this.#attach.attachRawTracepoint(opts);
    return this;
  }
  detachRawTracepoint(tp: string): void {
    this.#attach.detach(`raw:${tp}`, `raw tracepoint ${tp}`);
  }

  /** BCC's attach_kprobe: `event` (plus `eventOff`), or every traceable function matching `eventRe`. */
  attachKprobe(opts: { event?: string; fnName: string; eventOff?: number; eventRe?: string | RegExp }): this {
    this.#attach.attachKprobe(opts, false, opts.eventOff ?? 0, 0);
    return this;
  }
  /** BCC's attach_kretprobe; `maxactive` > 0 goes through tracefs kprobe_events (the PMU cannot set it). */
  attachKretprobe(opts: { event?: string; fnName: string; eventRe?: string | RegExp; maxactive?: number }): this {
    this.#attach.attachKprobe(opts, true, 0, opts.maxactive ?? 0);
    return this;
  }
  detachKprobe(event: string, eventOff = 0): void {
    this.#attach.detach(`kprobe:${event}${eventOff ? `+${eventOff}` : ""}`, `kprobe ${event}`);
  }
  detachKretprobe(event: string): void {
    this.#attach.detach(`kretprobe:${event}`, `kretprobe ${event}`);
  }


  /** KFUNC_PROBE (fentry); `fnName` with or without the `kfunc__` prefix. */
  attachKfunc(opts: { fnName: string }): this { this.#attach.attachBtf("kfunc", opts.fnName); return this; }
  /** KRETFUNC_PROBE (fexit). */
  attachKretfunc(opts: { fnName: string }): this { this.#attach.attachBtf("kretfunc", opts.fnName); return this; }
  /** KMOD_RET (fmod_ret; never autoloaded, like BCC). */
  attachFmodRet(opts: { fnName: string }): this { this.#attach.attachBtf("kmod_ret", opts.fnName); return this; }
  /** LSM_PROBE. */
  attachLsm(opts: { fnName: string }): this { this.#attach.attachBtf("lsm", opts.fnName); return this; }
  detachKfunc(opts: { fnName: string }): void { this.#attach.detachBtf("kfunc", opts.fnName); }
  detachKretfunc(opts: { fnName: string }): void { this.#attach.detachBtf("kretfunc", opts.fnName); }
  detachFmodRet(opts: { fnName: string }): void { this.#attach.detachBtf("kmod_ret", opts.fnName); }
  detachLsm(opts: { fnName: string }): void { this.#attach.detachBtf("lsm", opts.fnName); }

  /** BPF_ITER(target): links the iterator program (once); `readIter` runs it. */
  attachIter(fnName: string): Link {
    return this.#attach.attachIter(fnName);
  }
  /** Runs the BPF_ITER program over its target once and returns everything it printed. */
  readIter(fnName: string): string {
    return this.#attach.readIter(fnName);
  }
  detachIter(fnName: string): void {
    const name = this.#attach.btfFunction("bpf_iter__", fnName);
    this.#attach.detach(`iter:${name}`, `iterator ${name}`);
  }


  /** The typed table for a map (`b.table("counts")`, BCC's `b["counts"]` / `b.get_table("counts")`). */
  table<T extends AnyTable = any>(name: string, opts: { reducer?: Reducer<any> } = {}): T {
    const cached = this.#tables.get(name);
    if (cached) return cached as T;
    const table = tableOf(this.#obj, name, opts);
    const codec = this.metadata.events[name] ? () => this.#eventCodec(name) : undefined;
    if (table instanceof PerfEventArrayTable) {
      table.binding = { codec, open: (cb, o) => this.openPerfBuffer(name, cb, o) };
    } else if (table instanceof RingBufTable) {
      table.binding = { codec, open: (cb, o) => this.openRingBuffer(name, cb, o) };
    }
    this.#tables.set(name, table);
    return table as T;
  }

  getTable<T extends AnyTable = any>(name: string, opts: { reducer?: Reducer<any> } = {}): T {
    return this.table<T>(name, opts);
  }

  /** The program's tables (BCC's `for name in b` / `name in b`). */
  get tableNames(): string[] {
    return userTableNames(this.#obj);
  }
  has(name: string): boolean {
    return this.tableNames.includes(name);
  }
  /** BCC's len(b): the number of tables. */
  get size(): number {
    return this.tableNames.length;
  }
  [Symbol.iterator](): IterableIterator<string> {
    return this.tableNames[Symbol.iterator]();
  }
  /** BCC's `del b[name]`: forgets the cached table object (the map lives as long as the program). */
  deleteTable(name: string): boolean {
    return this.#tables.delete(name);
  }

  #eventCodec(mapName: string): KeyValueCodec {
    const typeName = this.metadata.events[mapName];
    if (!typeName) {
      throw new TsbccError(ErrorCode.STATE, `no event type is known for "${mapName}": it is not the target of perf_submit/ringbuf_output`);
    }
    return typeCodec(this.#obj, typeName, `event type of "${mapName}"`);
  }

  /** BCC's open_perf_buffer: `cb(cpu, data, size)`; decode with `b.table(name).event(data)` or use `decode: true`. */
  openPerfBuffer<T = any>(name: string, cb: PerfBufferCallback<T>, opts: PerfBufferOptions = {}): this {
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

  /** BCC's kprobe_poll: the old name of perf_buffer_poll. */
  kprobePoll(timeoutMs = -1): Promise<number> {
    return this.perfBufferPoll(timeoutMs);
  }

  /**
   * BCC's open_ring_buffer: `cb(ctx, data, size)` with `opts.ctx`; returning a negative number stops the current
   * drain. Unlike BCC, records the program could not write (ring full) are counted and reported to `lostCb(count)`.
   */
  openRingBuffer<T = any, C = unknown>(name: string, cb: RingBufferCallback<T, C>, opts: RingBufferOptions<C> = {}): this {
    this.#streams.openRingBuffer(name, cb, opts);
    return this;
  }

  /** Checks the perf buffers' losses now (exact: the program counts failed perf_submit calls); returns the total. */
  perfBufferLost(): number {
    return this.#streams.perfBufferLost();
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

  /**
   * close() without stalling the event loop: detaching waits for the kernel (an RCU grace period per tracepoint,
   * ~70 ms each), so the links are closed on libuv's thread pool, then readers, programs and maps as close() does.
   */
  async closeAsync(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#streams.close();
    try {
      await this.#attach.closeAsync();
    } finally {
      this.#obj.close();
    }
  }

  /** BCC's free_bcc_memory: nothing to release (clang runs in its own process); returns 0 like BCC on success. */
  freeBccMemory(): number {
    return 0;
  }

  /** BCC's cleanup(): the same as close(). */
  cleanup(): void {
    this.close();
  }

  /** Detaches everything, closes readers, programs and maps. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#streams.close();
    this.#attach.close();
    this.#obj.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeAsync();
  }

  // ---- Symbols and stacks: thin delegation to src/symbols/ (one process-wide Symbolizer) ----
  /** Address in `pid` (negative: kernel) -> "name[+0xoff][ [module]]" or "[unknown]" (BCC's BPF.sym). */
  sym(addr: bigint | number, pid: number, opts?: SymOptions): string { return defaultSymbolizer().sym(addr, pid, opts); }
  /** Function name -> run-time address in `pid` (negative: kernel), -1n when unknown. */
  symName(name: string, pid: number, opts: { module?: string } = {}): bigint { return defaultSymbolizer().symName(name, pid, opts); }
  /** The symbolized frames of `stackId` in stack table `table` (a name or the table); `pid` for user stacks. */
  stackSymbols(table: string | WalkableStackTable, stackId: number, opts: StackSymOptions = {}): string[] {
    return symbolizeStack(typeof table === "string" ? this.table<any>(table) : table, stackId, opts);
  }

  // ---- uprobes, USDT and perf events: thin delegation to ./user-probes.ts ----
  /** BCC's attach_uprobe: `name` (path, library such as "c", program) + one of sym / symRe / addr; `pid` filters. */
  attachUprobe(opts: UprobeSpec & { fnName: string }): this { this.#user.attachUprobe(opts, false); return this; }
  /** BCC's attach_uretprobe (no symOff). */
  attachUretprobe(opts: UprobeSpec & { fnName: string }): this { this.#user.attachUprobe(opts, true); return this; }
  detachUprobe(opts: UprobeSpec): void { this.#user.detachUprobe(opts, false); }
  detachUretprobe(opts: UprobeSpec): void { this.#user.detachUprobe(opts, true); }
  /** BCC's attach_perf_event: runs PERF_EVENT program `fnName` every samplePeriod events or sampleFreq times a second. */
  attachPerfEvent(opts: PerfEventOptions & { fnName: string }): this { this.#user.attachPerfEvent(opts); return this; }
  detachPerfEvent(opts: { evType: number; evConfig: number }): void { this.#user.detachPerfEvent(opts); }
  /**
   * BCC's attach_perf_event_raw: the caller gives the perf_event_attr fields (type, config, period or frequency,
   * exclude_user/exclude_kernel, precise_ip); detach with detachPerfEvent({ evType: attr.type, evConfig: attr.config }).
   */
  attachPerfEventRaw(opts: { attr: PerfEventRawAttr; fnName: string; pid?: number; cpu?: number; groupFd?: number }): this {
    this.#user.attachPerfEvent(perfEventOptionsFromAttr(opts));
    return this;
  }
  // ---- networking: thin delegation to src/net/bpf-methods.ts. Devices by name or index; `fn` is a function
  // name (loaded with the hook's program type) or a BPFFunction from loadFunc.
  /** BCC's attach_xdp: `flags` is XDP_FLAGS_* or { mode, flags, via }; a BPF link where the kernel has one. */
  attachXdp(dev: net.DeviceRef, fn: string | BPFFunction, flags: number | net.XdpOptions = 0): this {
    net.bpfAttachXdp(this.#net, dev, fn, flags);
    return this;
  }
  detachXdp(dev: net.DeviceRef): void { net.bpfDetachXdp(this.#net, dev); }
  /** BCC's remove_xdp: detaches the device's XDP program in the mode `flags` selects, whoever attached it. */
  static removeXdp(dev: net.DeviceRef, flags = 0): void { net.removeXdp(dev, flags); }
  /** A direct-action tc classifier: TCX link where the kernel has TCX, clsact + cls_bpf over rtnetlink otherwise. */
  attachTc(opts: net.BpfTcOptions): this { net.bpfAttachTc(this.#net, opts); return this; }
  detachTc(opts: { dev: net.DeviceRef; direction?: net.TcDirection }): void { net.bpfDetachTc(this.#net, opts); }
  /** BCC's attach_raw_socket: a packet socket on `dev` filtered by `fn` (a SOCKET_FILTER from loadFunc). */
  static attachRawSocket(fn: BPFFunction, dev: net.DeviceRef): net.RawSocket { return net.openRawSocket(net.fnFd(fn), dev); }
  /** SO_ATTACH_BPF on a socket the caller owns (its fd). */
  static attachSocketFilter(fn: BPFFunction, socketFd: number): void { net.attachSocketFilter(net.fnFd(fn), socketFd); }
  /** A cgroup program on a cgroup v2 directory; `hook`: "ingress", "egress", "connect4", "sysctl", "device", ... */
  attachCgroup(opts: net.BpfCgroupOptions): this { net.bpfAttachCgroup(this.#net, opts); return this; }
  detachCgroup(opts: { cgroup: string; hook: net.CgroupHook; fnName: string }): void { net.bpfDetachCgroup(this.#net, opts); }
  /** sk_msg / sk_skb programs on a BPF_SOCKMAP or BPF_SOCKHASH table of this object. */
  attachSockmap(opts: net.BpfSockmapOptions): this { net.bpfAttachSockmap(this.#net, opts); return this; }
  detachSockmap(opts: { map: string; hook: net.SockmapHook }): void { net.bpfDetachSockmap(this.#net, opts); }
  /** BPF_PROG_TEST_RUN: runs `fn` (loaded already, or loaded now as `progType`) on a crafted packet. */
  testRun(fn: string | BPFFunction, opts: net.TestRunOptions & { progType?: number } = {}): net.TestRunResult {
    return net.bpfTestRun(this.#net, fn, opts);
  }
}

/** Verifier log level for BCC's debug flags: 2 with DEBUG_BPF_REGISTER_STATE, 1 with DEBUG_BPF, else none. */
function debugLogLevel(debug: number): number | undefined {
  if (debug & BPF.DEBUG_BPF_REGISTER_STATE) return 2;
  return debug & BPF.DEBUG_BPF ? 1 : undefined;
}

/** The program text of `srcFile`; a file that cannot be read is the caller's argument error. */
async function readSource(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new ArgumentError("srcFile", `cannot read ${path}: ${(e as Error).message}`);
  }
}
