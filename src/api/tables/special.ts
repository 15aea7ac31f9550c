// Tables whose values are not plain data: program arrays, perf event arrays (fds), stack traces, ring buffers.
import type { Fd } from "../../sys/index.js";
import { u32Codec, viewOf, type KeyValueCodec } from "./codec.js";
import { ArrayTableBase } from "./array.js";
import { Table, type TableInfo, type TableOptions, type UpdateFlag } from "./table.js";
import { ErrorCode, TsbccError } from "../../errors.js";
import { openPerfCounters, type Link } from "../../link/index.js";

/** Options of BCC's open_perf_buffer (page_cnt, lost_cb, wakeup_events) plus `decode`. */
export interface PerfBufferOptions {
  /** Pages per CPU buffer, a power of two (default 8). */
  pageCnt?: number;
  /** Records the kernel could not write: `count` on `cpu` (default: a stderr notice). */
  lostCb?: (count: number, cpu: number) => void;
  wakeupEvents?: number;
  /** With wakeupEvents > 1: the longest a record waits for a polling reader, in ms (default: no bound, as BCC). */
  maxLatencyMs?: number;
  /** Hand the callback decoded objects instead of bytes. */
  decode?: boolean;
}
/** BCC's open_perf_buffer callback: `data` is bytes (or the decoded event with `decode: true`). */
export type PerfBufferCallback<T = any> = (cpu: number, data: T, size: number) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Options of BCC's open_ring_buffer (ctx) plus `decode` and `lostCb`. */
export interface RingBufferOptions<C = unknown> {
  /** Passed back as the callback's first argument (BCC's ctx). */
  ctx?: C;
  decode?: boolean;
  /** Records the program could not write (ring full), counted by the dialect (default: a stderr notice). */
  lostCb?: (count: number) => void;
}
/** BCC's open_ring_buffer callback `(ctx, data, size)`; a negative return stops the current drain. */
export type RingBufferCallback<T = any, C = unknown> = (ctx: C, data: T, size: number) => number | void; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a BPF object gives its output tables: the decoder of the submitted struct and how to open a reader. */
export interface OutputBinding<Open> {
  /** Decoder of what the program submits (from the dialect's metadata and BTF); absent when unknown. */
  codec?: () => KeyValueCodec;
  open: Open;
}

function decodeEvent<T>(table: string, binding: OutputBinding<unknown> | undefined, data: Uint8Array): T {
  if (!binding?.codec) {
    throw new TsbccError(ErrorCode.STATE, `table "${table}": no event type is known (the program never submits a struct to it, ` +
      "or the table was not opened through BPF)");
  }
  return binding.codec().decode(data, 0) as T;
}

function unbound(table: string): never {
  throw new TsbccError(ErrorCode.STATE, `table "${table}": open readers through the BPF object that loaded it (b.table("${table}"))`);
}

/** Something that is, or owns, a program fd: a raw number, an Fd, or an object with `fd` (a loaded program). */
export type ProgramRef = number | Fd | { readonly fd: number | Fd };

function fdNumber(p: ProgramRef): number {
  if (typeof p === "number") return p;
  if ("value" in p && typeof (p as Fd).value === "number") return (p as Fd).value;
  const inner = (p as { fd: number | Fd }).fd;
  return typeof inner === "number" ? inner : inner.value;
}

/**
 * BPF_MAP_TYPE_PROG_ARRAY: `set(i, program)` stores a program for bpf_tail_call; `get(i)` returns what the kernel
 * reports for the slot (the program's id); `delete(i)` empties the slot.
 */
export class ProgArrayTable extends ArrayTableBase<number> {
  constructor(info: TableInfo, fd: Fd, options: TableOptions = {}) {
    super(info, fd, u32Codec("int (program fd)"), options);
  }

  override set(key: number, prog: ProgramRef, flags: UpdateFlag = "any"): this {
    return super.set(key, fdNumber(prog), flags);
  }
}

/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY: key = CPU, value = perf event fd. Only the raw slot operations live here; the
 * perf buffer reader (open_perf_buffer) is built on top in src/events.
 */
export class PerfEventArrayTable extends ArrayTableBase<number> {
  constructor(info: TableInfo, fd: Fd, options: TableOptions = {}) {
    super(info, fd, u32Codec("int (perf event fd)"), options);
  }

  override set(key: number, eventFd: number | Fd, flags: UpdateFlag = "any"): this {
    return super.set(key, typeof eventFd === "number" ? eventFd : eventFd.value, flags);
  }

  /** Set by the BPF object that owns the table. */
  binding?: OutputBinding<(cb: PerfBufferCallback, opts: PerfBufferOptions) => void>;

  /**
   * BCC's open_perf_event: opens a counting perf event (PerfType / PerfSWConfig / PerfHWConfig) on every CPU (or
   * for `pid`) and stores each fd at its CPU's slot, for `perf_read` / `perf_counter_value` in the program.
   * Closing the returned link (or the process exiting) closes the events.
   */
  openPerfEvent(evType: number, evConfig: number, pid = -1): Link {
    return openPerfCounters(this.fd.value, { evType, evConfig, pid });
  }

  /** BCC's event(data): the submitted struct decoded from one record's bytes. */
  event<T = any>(data: Uint8Array): T { // eslint-disable-line @typescript-eslint/no-explicit-any
    return decodeEvent<T>(this.name, this.binding, data);
  }

  /** BCC's table.open_perf_buffer(callback, page_cnt, lost_cb, wakeup_events); poll with b.perfBufferPoll(). */
  openPerfBuffer<T = any>(cb: PerfBufferCallback<T>, opts: PerfBufferOptions = {}): this { // eslint-disable-line @typescript-eslint/no-explicit-any
    (this.binding?.open ?? unbound(this.name))(cb, opts);
    return this;
  }
}

/** One frame of a BPF_F_STACK_BUILD_ID stack (struct bpf_stack_build_id). */
export interface BuildIdFrame {
  /** 0 empty, 1 valid build id + offset, 2 fallback to ip. */
  status: number;
  buildId: Uint8Array;
  /** File offset (status 1) or instruction pointer (status 2). */
  offset: bigint;
}

const BUILD_ID_FRAME = 32;

/** A stack is decoded to its raw frames: u64 addresses, or build-id frames when the map has BPF_F_STACK_BUILD_ID. */
function stackCodec(valueSize: number, buildId: boolean): KeyValueCodec<bigint[] | BuildIdFrame[]> {
  const frame = buildId ? BUILD_ID_FRAME : 8;
  const depth = Math.floor(valueSize / frame);
  return {
    size: valueSize,
    cType: buildId ? `struct bpf_stack_build_id[${depth}]` : `u64[${depth}]`,
    decode(b, o) {
      const view = viewOf(b);
      if (!buildId) {
        const out = new Array<bigint>(depth);
        for (let i = 0; i < depth; i++) out[i] = view.getBigUint64(b.byteOffset + o + i * 8, true);
        return out;
      }
      const out = new Array<BuildIdFrame>(depth);
      for (let i = 0; i < depth; i++) {
        const p = o + i * BUILD_ID_FRAME;
        out[i] = {
          status: view.getInt32(b.byteOffset + p, true),
          buildId: b.slice(p + 4, p + 24),
          offset: view.getBigUint64(b.byteOffset + p + 24, true),
        };
      }
      return out;
    },
    encode(v, out, o) {
      const view = viewOf(out);
      v.forEach((f, i) => {
        if (i >= depth) return;
        if (typeof f === "bigint") view.setBigUint64(out.byteOffset + o + i * 8, f, true);
        else {
          const p = o + i * BUILD_ID_FRAME;
          view.setInt32(out.byteOffset + p, f.status, true);
          out.set(f.buildId.subarray(0, 20), p + 4);
          view.setBigUint64(out.byteOffset + p + 24, f.offset, true);
        }
      });
    },
  };
}

/**
 * BPF_MAP_TYPE_STACK_TRACE: key = stack id (from bpf_get_stackid), value = frames. `walk(id)` yields the
 * addresses up to the first zero. `clear()` does nothing, as in BCC (tools clear stacks by deleting ids).
 */
export class StackTraceTable extends Table<number, bigint[] | BuildIdFrame[]> {
  static readonly MAX_DEPTH = 127;
  static readonly BPF_F_STACK_BUILD_ID = 1 << 5;

  constructor(info: TableInfo, fd: Fd, options: TableOptions = {}) {
    super(info, fd, u32Codec("u32 stack id"), stackCodec(info.valueSize, (info.flags & StackTraceTable.BPF_F_STACK_BUILD_ID) !== 0),
      options);
  }

  get buildId(): boolean {
    return (this.flags & StackTraceTable.BPF_F_STACK_BUILD_ID) !== 0;
  }

  /**
   * The frames of `stackId`, innermost first, stopping at the first empty one: addresses (bigint), or build-id
   * frames whose status is "valid" (BCC stops at the first ip-fallback or empty frame). `resolve` maps each one.
   * Yields nothing for an unknown id (BCC raises KeyError).
   */
  *walk<R = bigint | BuildIdFrame>(stackId: number, resolve?: (frame: bigint | BuildIdFrame) => R): IterableIterator<R> {
    const frames = this.get(stackId);
    if (!frames) return;
    const max = Math.min(frames.length, StackTraceTable.MAX_DEPTH);
    for (let i = 0; i < max; i++) {
      const f = frames[i]!;
      if (typeof f === "bigint") {
        if (f === 0n) return;
      } else if (f.status !== 1) return;
      yield resolve ? resolve(f) : (f as R);
    }
  }

  /** No-op, as in BCC. */
  override clear(): void {}
}

/**
 * BPF_MAP_TYPE_RINGBUF: has no entries from user space's point of view (size 0, empty iteration). The reader
 * (open_ring_buffer) is added in src/events.
 */
export class RingBufTable {
  readonly name: string;
  readonly mapType: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly fd: Fd;
  constructor(info: TableInfo, fd: Fd) {
    this.name = info.name;
    this.mapType = info.mapType;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
    this.fd = fd;
  }
  getFd(): number {
    return this.fd.value;
  }
  get size(): number {
    return 0;
  }
  *[Symbol.iterator](): IterableIterator<never> {}

  /** Set by the BPF object that owns the table. */
  binding?: OutputBinding<(cb: RingBufferCallback<any, any>, opts: RingBufferOptions<any>) => void>; // eslint-disable-line @typescript-eslint/no-explicit-any

  /** BCC's event(data): the submitted struct decoded from one record's bytes. */
  event<T = any>(data: Uint8Array): T { // eslint-disable-line @typescript-eslint/no-explicit-any
    return decodeEvent<T>(this.name, this.binding, data);
  }

  /** BCC's table.open_ring_buffer(callback, ctx): `cb(ctx, data, size)`; poll with b.ringBufferPoll(). */
  openRingBuffer<T = any, C = unknown>(cb: RingBufferCallback<T, C>, opts: RingBufferOptions<C> = {}): this { // eslint-disable-line @typescript-eslint/no-explicit-any
    (this.binding?.open ?? unbound(this.name))(cb, opts);
    return this;
  }
}
