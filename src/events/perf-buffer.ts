// Perf buffer reader for a BPF_MAP_TYPE_PERF_EVENT_ARRAY map (what BCC's BPF_PERF_OUTPUT/perf_submit write to).
//
// One PERF_COUNT_SW_BPF_OUTPUT event per CPU, each with its own mmap'd ring: a metadata page
// (perf_event_mmap_page) followed by 2^n data pages. The kernel advances data_head; we read records up to it and
// hand the space back by storing data_tail. The event fd of CPU i is stored in the map at key i, which is where
// bpf_perf_event_output(..., BPF_F_CURRENT_CPU, ...) looks it up.
import { ErrorCode, TsbccError, ArgumentError } from "../errors.js";
import { bpf, closeAtExit, type Fd, mmapFd, munmap, perf, PROT_READ, PROT_WRITE, SyscallError } from "../sys/index.js";
import { possibleCpus } from "../kernel/cpus.js";
import { describeMap, mapBasics, MapType, pageSize, reportLost } from "./map-info.js";
import { PollingReader, type WatchStrategy } from "./readiness.js";

/** Offsets in struct perf_event_mmap_page (u64 fields). */
const DATA_HEAD = 1024 / 8, DATA_TAIL = 1032 / 8, DATA_OFFSET = 1040 / 8, DATA_SIZE = 1048 / 8;
const PERF_RECORD_LOST = 2, PERF_RECORD_SAMPLE = 9;
const HEADER_SIZE = 8;

/**
 * Called once per sample. `data` is the raw sample as the kernel wrote it; `size` is its length, which the
 * kernel pads so that the sample's u32 length plus data is 8-byte aligned (so `size` can exceed what the BPF
 * program submitted by up to 7 bytes, as in BCC). Unless the reader was opened with `copy: true`, `data` is a
 * view into the ring that is only valid during the callback: copy what you keep.
 */
export type PerfSampleCallback = (cpu: number, data: Uint8Array, size: number) => void;
export type PerfLostCallback = (cpu: number, count: number) => void;

export interface PerfBufferOptions {
  /** Data pages per CPU ring; a power of two. Default 8 (BCC's default). */
  pageCnt?: number;
  /** Called with the number of samples the kernel dropped because the ring was full. Default: a stderr notice. */
  lostCb?: PerfLostCallback;
  /** Wake the reader after this many samples (default 1). Ignored when `watermark` is set. */
  wakeupEvents?: number;
  /** Wake the reader once this many bytes are in the ring, instead of counting samples. */
  watermark?: number;
  /**
   * With wakeupEvents > 1 or a watermark: the longest a record may wait for its reader, in ms (a waiting reader
   * looks at its rings this often and drains what the kernel has not announced yet). Default: none, only the
   * kernel's wakeups (BCC's behaviour: the last records of a burst below the threshold wait for the next burst).
   */
  maxLatencyMs?: number;
  /** Give callbacks a copy of each sample instead of a view into the ring. */
  copy?: boolean;
  /** Readiness strategy; "epoll" (default) unless you are measuring. */
  watch?: WatchStrategy;
  /**
   * Failed outputs the program counted itself, per CPU (index = CPU), cumulative. The kernel reports a loss with a
   * LOST record only when that CPU's buffer is next written, so after a burst its count can stay short forever;
   * with this source drains and checkLost() report max(kernel count, program count) per CPU: exact as soon as
   * the rings are drained empty, within `lostCheckIntervalMs` during a burst, and at once through checkLost().
   */
  lostCount?: () => ArrayLike<number>;
  /** How often drains during a burst sample `lostCount` at most, in ms (default 100; 0 = every drain). */
  lostCheckIntervalMs?: number;
}

export type PerfEvent =
  | { kind: "sample"; cpu: number; data: Uint8Array }
  | { kind: "lost"; cpu: number; count: number };

interface CpuRing {
  cpu: number;
  fd: Fd;
  ptr: unknown;
  mapLen: number;
  meta: BigUint64Array;
  /** The same page as u32s, to read data_head without allocating a BigInt. */
  meta32: Uint32Array;
  u8: Uint8Array;
  u32: Uint32Array;
  dataOff: number;
  dataSize: number;
  /** Our read position; a JS number is exact for 2^53 bytes, far beyond any ring's lifetime. */
  tail: number;
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/**
 * data_head as two SeqCst u32 loads (at least the acquire the ABI asks for), high word re-read so that a carry
 * between the halves cannot tear it; cheaper than a BigInt per wakeup.
 */
function ringHead(r: CpuRing): number {
  const m32 = r.meta32;
  let hi: number, lo: number;
  do {
    hi = Atomics.load(m32, DATA_HEAD * 2 + 1);
    lo = Atomics.load(m32, DATA_HEAD * 2);
  } while (Atomics.load(m32, DATA_HEAD * 2 + 1) !== hi);
  return hi * 2 ** 32 + lo;
}

export class PerfBuffer extends PollingReader implements AsyncIterable<PerfEvent> {
  readonly mapFd: number;
  readonly pageCnt: number;
  readonly #rings: CpuRing[] = [];
  readonly #cb: PerfSampleCallback | null;
  readonly #lostCb: PerfLostCallback | undefined;
  readonly #copy: boolean;
  #lost = 0;
  readonly #lostCount: (() => ArrayLike<number>) | undefined;
  readonly #lostInterval: number;
  #lastLostCheck = -Infinity;
  #lostTimer: ReturnType<typeof setTimeout> | undefined;
  /** Per CPU: what the kernel's LOST records said, and what was reported to lostCb. */
  readonly #kernelLost = new Map<number, number>();
  readonly #reportedLost = new Map<number, number>();
  #scratch = new Uint8Array(0);
  #scratch32 = new Uint32Array(0);
  #queue: PerfEvent[] | null = null;
  #qHead = 0;
  #unregister: () => void = () => {};

  /** Use openPerfBuffer(). */
  constructor(mapFd: number, cb: PerfSampleCallback | null, opts: PerfBufferOptions = {}) {
    const pageCnt = opts.pageCnt ?? 8;
    if (!Number.isInteger(pageCnt) || pageCnt < 1 || (pageCnt & (pageCnt - 1)) !== 0) {
      throw new ArgumentError("pageCnt", `perf buffer pageCnt must be a power of two (1, 2, 4, 8, ...), got ${pageCnt}`);
    }
    const wakeup = opts.watermark ?? opts.wakeupEvents ?? 1;
    if (!Number.isInteger(wakeup) || wakeup < 1 || wakeup > 0xffffffff) {
      throw new ArgumentError(opts.watermark !== undefined ? "watermark" : "wakeupEvents", `perf buffer ${opts.watermark !== undefined ? "watermark" : "wakeupEvents"} must be a positive integer, got ${wakeup}`);
    }
    const latency = opts.maxLatencyMs;
    if (latency !== undefined && !(Number.isFinite(latency) && latency > 0 && latency <= 0x7fff_ffff)) {
      throw new ArgumentError("maxLatencyMs", `perf buffer maxLatencyMs must be a positive number of milliseconds, got ${latency}`);
    }
    super(opts.watch, false); // perf fds reset their readiness when polled: no edge bookkeeping needed
    if (wakeup > 1 || opts.watermark !== undefined) this.latencyBoundMs = latency;
    this.mapFd = mapFd;
    this.#cb = cb;
    this.#lostCb = opts.lostCb;
    this.#lostCount = opts.lostCount;
    this.#lostInterval = opts.lostCheckIntervalMs ?? 100;
    this.#copy = opts.copy ?? false;
    this.pageCnt = pageCnt;
    try {
      const info = mapBasics(mapFd);
      if (info.type !== MapType.PERF_EVENT_ARRAY) {
        throw new ArgumentError("mapFd", `${describeMap(info)} is not a BPF_MAP_TYPE_PERF_EVENT_ARRAY`);
      }
      for (const cpu of possibleCpus()) {
        if (cpu >= info.maxEntries) break; // the program cannot address CPUs beyond the array anyway
        this.#openCpu(cpu, opts);
      }
      if (this.#rings.length === 0) throw new TsbccError(ErrorCode.UNSUPPORTED, `perf buffer: no online CPU could open a BPF output event`);
    } catch (e) {
      this.close();
      throw e;
    }
    this.#unregister = closeAtExit(this);
  }

  #openCpu(cpu: number, opts: PerfBufferOptions): void {
    const byBytes = opts.watermark !== undefined;
    let fd: Fd;
    try {
      fd = perf.perfEventOpen({
        type: perf.PerfType.SOFTWARE,
        config: perf.PerfSwConfig.BPF_OUTPUT,
        sampleType: perf.PERF_SAMPLE_RAW,
        samplePeriod: 1,
        wakeupEvents: byBytes ? opts.watermark : (opts.wakeupEvents ?? 1),
        watermark: byBytes,
      }, -1, cpu, `perf buffer cpu ${cpu}`);
    } catch (e) {
      // An offline (but possible) CPU: nothing can run there, so there is nothing to read.
      if (e instanceof SyscallError && (e.errnoCode === "ENODEV" || e.errnoCode === "ENOENT")) return;
      throw e;
    }
    const page = pageSize();
    const mapLen = (1 + this.pageCnt) * page;
    let m: { ptr: unknown; buffer: ArrayBuffer };
    try {
      m = mmapFd(fd.value, mapLen, PROT_READ | PROT_WRITE, 0);
    } catch (e) {
      fd.close();
      throw e;
    }
    const meta = new BigUint64Array(m.buffer, 0, page / 8);
    const ring: CpuRing = {
      cpu, fd, ptr: m.ptr, mapLen, meta, meta32: new Uint32Array(m.buffer, 0, page / 4), u8: new Uint8Array(m.buffer), u32: new Uint32Array(m.buffer),
      dataOff: Number(meta[DATA_OFFSET]) || page,
      dataSize: Number(meta[DATA_SIZE]) || this.pageCnt * page,
      tail: Number(Atomics.load(meta, DATA_TAIL)),
    };
    // Registered before the map update so close() undoes a half-built ring too.
    this.#rings.push(ring);
    this.readiness.add(fd.value);
    bpf.mapUpdate(this.mapFd, u32le(cpu), u32le(fd.value));
  }

  /** CPUs with a ring (possible, online, below the map's max_entries). */
  get cpus(): number[] {
    return this.#rings.map((r) => r.cpu);
  }

  /** Total samples reported lost since open (kernel LOST records, or the program's count when larger). */
  get lost(): number {
    return this.#lost;
  }

  /** Fds and mappings this reader holds (for leak checks). */
  get resources(): { fds: number; mappings: number } {
    return { fds: this.#rings.length + this.readiness.ownFds, mappings: this.#rings.length };
  }

  protected override hasPending(): boolean {
    for (const r of this.#rings) if (ringHead(r) !== r.tail) return true;
    return false;
  }

  protected drain(): number {
    let n = 0;
    // Every wakeup drains every ring: waking user space is the expensive part, so make each one count.
    for (const ring of this.#rings) {
      n += this.#drainRing(ring);
      if (this.closed) break;
    }
    if (!this.closed && this.#lostCount) this.#sampleLost(n);
    return n;
  }

  /**
   * Reading the program's counter is one syscall: done when a drain finds the rings empty (the producer paused,
   * so the count is final), else at most every `lostCheckIntervalMs`, with a trailing check so that the last
   * losses of a burst are reported even if no drain follows.
   */
  #sampleLost(delivered: number): void {
    const since = performance.now() - this.#lastLostCheck;
    if (delivered === 0 || since >= this.#lostInterval) {
      this.checkLost();
      return;
    }
    this.#lostTimer ??= setTimeout(() => {
      this.#lostTimer = undefined;
      if (!this.closed) this.checkLost();
    }, this.#lostInterval - since).unref();
  }

  /**
   * Reports losses not reported yet: per CPU, max(the kernel's LOST records, the program's own count). Runs after
   * every drain; call it to be exact at a moment of your choosing (e.g. after the producer stopped). Returns the
   * increase.
   */
  checkLost(): number {
    this.#lastLostCheck = performance.now();
    const program = this.#lostCount?.();
    let added = 0;
    for (const r of this.#rings) added += this.#reportLost(r.cpu, program?.[r.cpu] ?? 0);
    return added;
  }

  #reportLost(cpu: number, programCount: number): number {
    const target = Math.max(this.#kernelLost.get(cpu) ?? 0, programCount);
    const count = target - (this.#reportedLost.get(cpu) ?? 0);
    if (count <= 0) return 0;
    this.#reportedLost.set(cpu, target);
    this.#lost += count;
    if (this.#queue) this.#queue.push({ kind: "lost", cpu, count });
    if (this.#lostCb) this.#lostCb(cpu, count);
    else if (!this.#queue) reportLost(count, `cpu ${cpu}`);
    return count;
  }

  #drainRing(r: CpuRing): number {
    const head = ringHead(r);
    let tail = r.tail;
    if (tail === head) return 0;
    let n = 0;
    try {
      while (tail < head && !this.closed) {
        const off = tail % r.dataSize; // (tail may exceed 2^32, so no bit ops on it)
        const at = r.dataOff + off;
        const word1 = r.u32[(at >> 2) + 1]!;
        const type = r.u32[at >> 2]!;
        const size = word1 >>> 16;
        if (size < HEADER_SIZE || size > head - tail) {
          tail = head; // cannot find the next record: drop what is there rather than fail on every drain
          throw new TsbccError(ErrorCode.KERNEL_DATA, `perf buffer cpu ${r.cpu}: corrupt record header (size ${size}); dropped the rest of the ring`);
        }
        let u8 = r.u8, u32 = r.u32, base = at;
        if (off + size > r.dataSize) {
          // The record wraps around the end of the ring: hand out one contiguous copy.
          this.#ensureScratch(size);
          const first = r.dataSize - off;
          this.#scratch.set(r.u8.subarray(at, at + first), 0);
          this.#scratch.set(r.u8.subarray(r.dataOff, r.dataOff + size - first), first);
          u8 = this.#scratch;
          u32 = this.#scratch32;
          base = 0;
        }
        tail += size;
        if (type === PERF_RECORD_SAMPLE) {
          const rawSize = u32[(base >> 2) + 2]!;
          const start = base + HEADER_SIZE + 4;
          n++;
          this.#deliver(r.cpu, u8, start, Math.min(rawSize, size - HEADER_SIZE - 4));
        } else if (type === PERF_RECORD_LOST) {
          // struct { header; u64 id; u64 lost; }
          const count = u32[(base >> 2) + 4]! + u32[(base >> 2) + 5]! * 2 ** 32;
          this.#kernelLost.set(r.cpu, (this.#kernelLost.get(r.cpu) ?? 0) + count);
          this.#reportLost(r.cpu, 0);
        }
      }
    } finally {
      // One tail store per drain, after the last record was read; a callback that throws still consumes
      // its record so it is not delivered again.
      if (tail !== r.tail) {
        r.tail = tail;
        Atomics.store(r.meta, DATA_TAIL, BigInt(tail));
      }
    }
    return n;
  }

  #deliver(cpu: number, u8: Uint8Array, start: number, size: number): void {
    const data = this.#copy ? u8.slice(start, start + size) : u8.subarray(start, start + size);
    if (this.#queue) this.#queue.push({ kind: "sample", cpu, data: this.#copy ? data : data.slice() });
    this.#cb?.(cpu, data, size);
  }

  #ensureScratch(size: number): void {
    if (this.#scratch.byteLength >= size) return;
    const buf = new ArrayBuffer(Math.max(256, 2 ** Math.ceil(Math.log2(size))));
    this.#scratch = new Uint8Array(buf);
    this.#scratch32 = new Uint32Array(buf);
  }

  /**
   * Samples and lost notices as an async stream (each sample copied). While an iterator is active, samples
   * still go to the callback too. The stream ends when the reader is closed.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<PerfEvent> {
    if (this.#queue) throw new TsbccError(ErrorCode.STATE, "perf buffer: only one async iterator at a time");
    this.#queue = [];
    this.#qHead = 0;
    try {
      for (;;) {
        while (this.#queue.length > this.#qHead) {
          const ev = this.#queue[this.#qHead++]!;
          if (this.#qHead > 1024 && this.#qHead * 2 > this.#queue.length) {
            this.#queue = this.#queue.slice(this.#qHead);
            this.#qHead = 0;
          }
          yield ev;
        }
        this.#queue.length = 0;
        this.#qHead = 0;
        if (this.closed) return;
        await this.poll(-1);
      }
    } finally {
      this.#queue = null;
    }
  }

  protected release(): void {
    if (this.#lostTimer) clearTimeout(this.#lostTimer);
    this.#unregister();
    const errors: unknown[] = [];
    for (const r of this.#rings.splice(0)) {
      // Remove the fd from the map first so the program stops writing into a ring we are about to unmap.
      try {
        bpf.mapDelete(this.mapFd, u32le(r.cpu));
      } catch (e) {
        // EBADF/ENOENT: the map itself is gone or was emptied; nothing left to undo.
        if (!(e instanceof SyscallError)) errors.push(e);
      }
      try {
        this.readiness.remove(r.fd.value);
      } catch {
        // The epoll fd drops closed fds on its own.
      }
      try {
        munmap(r.ptr, r.mapLen);
      } catch (e) {
        errors.push(e);
      }
      r.fd.close();
    }
    if (errors.length) throw errors[0];
  }
}

/** Opens a perf buffer over a PERF_EVENT_ARRAY map (BCC's `open_perf_buffer`). */
export function openPerfBuffer(mapFd: number, cb: PerfSampleCallback | null, opts: PerfBufferOptions = {}): PerfBuffer {
  return new PerfBuffer(mapFd, cb, opts);
}
