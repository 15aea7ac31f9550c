// Event streams of one BPF object: perf buffers and ring buffers opened on its output tables, read with
// BCC-shaped calls (openPerfBuffer / perfBufferPoll / openRingBuffer / ringBufferPoll), an async iterator
// (events()) or continuous delivery (startPolling()). The BPF class delegates here.
import type { LoadedObject } from "../loader/index.js";
import { MapType } from "../loader/index.js";
import { openPerfBuffer, pollReaders, RingBufferManager, type PerfBuffer, type PollingReader } from "../events/index.js";
import { reportLost } from "../events/map-info.js";
import { outputDropsMap } from "../dialect/rewrite-maps.js";
import { bpf } from "../sys/index.js";
import { possibleCpus } from "../kernel/cpus.js";
import type { KeyValueCodec } from "./tables/codec.js";
import { userTableNames } from "./tables/from-object.js";
import { ArgumentError, ErrorCode, NoSuchTableError, TsbccError } from "../errors.js";
import type { PerfBufferCallback, PerfBufferOptions, RingBufferCallback, RingBufferOptions } from "./tables/special.js";

export class EventStreams {
  readonly #obj: LoadedObject;
  /** The decoder of the struct the program submits to a table (from the dialect's metadata and BTF). */
  readonly #codec: (name: string) => KeyValueCodec;
  #perfBuffers = new Map<string, PerfBuffer>();
  #ringManager?: RingBufferManager;
  /** Ring buffer maps being read (by openRingBuffer or an events() iterator): each can have one reader. */
  readonly #ringNames = new Set<string>();
  /** Ring buffer readers owned by events() iterators (perf ones are in #perfBuffers). */
  readonly #iterReaders = new Set<RingBufferManager>();

  constructor(obj: LoadedObject, codec: (name: string) => KeyValueCodec) {
    this.#obj = obj;
    this.#codec = codec;
  }

  /** BCC's open_perf_buffer: `cb(cpu, data, size)`; decode with `b.table(name).event(data)` or use `decode: true`. */
  openPerfBuffer<T>(name: string, cb: PerfBufferCallback<T>, opts: PerfBufferOptions = {}): this {
    const m = this.#obj.maps.get(name);
    if (!m) throw new NoSuchTableError(name, userTableNames(this.#obj));
    if (m.spec.type !== MapType.PERF_EVENT_ARRAY) throw new ArgumentError("name", `"${name}" is not a BPF_PERF_OUTPUT table`);
    if (this.#perfBuffers.has(name)) throw new TsbccError(ErrorCode.STATE, `a perf buffer is already open on "${name}"`);
    const decoder = opts.decode ? this.#codec(name) : undefined;
    const reader = openPerfBuffer(m.fd.value, decoder ? (cpu, data, size) => cb(cpu, decoder.decode(data, 0) as T, size) : (cpu, data, size) => cb(cpu, data as T, size), {
      pageCnt: opts.pageCnt, wakeupEvents: opts.wakeupEvents, maxLatencyMs: opts.maxLatencyMs, lostCount: this.#dropCounter(name),
      lostCb: opts.lostCb ? (cpu, count) => opts.lostCb!(count, cpu) : undefined,
    });
    this.#perfBuffers.set(name, reader);
    return this;
  }

  /** Waits up to `timeoutMs` (-1: forever) for events on every open perf buffer, draining them. */
  async perfBufferPoll(timeoutMs = -1): Promise<number> {
    const readers = [...this.#perfBuffers.values()];
    if (readers.length === 0) throw new TsbccError(ErrorCode.STATE, "no perf buffer is open (call openPerfBuffer first)");
    // One wait over all buffers: a quiet buffer must not hold back events on the others.
    return pollReaders(readers, timeoutMs);
  }

  perfBufferConsume(): number {
    return [...this.#perfBuffers.values()].reduce((n, r) => n + r.consume(), 0);
  }

  /**
   * BCC's open_ring_buffer: `cb(ctx, data, size)` (ctx from `opts.ctx`); returning a negative number stops the
   * current drain. Unlike BCC, records the program could not write (ring full) are reported: the dialect compiler
   * counts failed ringbuf_output/ringbuf_reserve calls per CPU, and `lostCb(count)` receives increases of that
   * count (default: a stderr notice), checked on poll/consume at most every 100 ms and by ringBufferLost().
   */
  openRingBuffer<T, C>(name: string, cb: RingBufferCallback<T, C>, opts: RingBufferOptions<C> = {}): this {
    const fd = this.#ringFd(name);
    const decoder = opts.decode ? this.#codec(name) : undefined;
    const ctx = opts.ctx as C;
    this.#ringManager ??= new RingBufferManager();
    this.#ringManager.add(fd, decoder ? (data, size) => cb(ctx, decoder.decode(data, 0) as T, size) : (data, size) => cb(ctx, data as T, size),
      { lostCount: this.#ringDropCounter(name), lostCb: opts.lostCb });
    this.#ringNames.add(name);
    return this;
  }

  #ringFd(name: string): number {
    const m = this.#obj.maps.get(name);
    if (!m) throw new NoSuchTableError(name, userTableNames(this.#obj));
    if (m.spec.type !== MapType.RINGBUF) throw new ArgumentError("name", `"${name}" is not a BPF_RINGBUF_OUTPUT table`);
    if (this.#ringNames.has(name)) throw new TsbccError(ErrorCode.STATE, `a ring buffer reader is already open on "${name}"`);
    return m.fd.value;
  }

  /** Per CPU, the failed outputs the program counted for output `name`; undefined without a counter. */
  #dropCounter(name: string): (() => number[]) | undefined {
    const drops = this.#obj.maps.get(outputDropsMap(name));
    if (!drops || drops.spec.type !== MapType.PERCPU_ARRAY) return undefined;
    const ncpu = possibleCpus().length;
    const key = new Uint8Array(4);
    const value = new Uint8Array(8 * ncpu);
    const view = new DataView(value.buffer);
    const counts = new Array<number>(ncpu).fill(0);
    return () => {
      if (!bpf.mapLookup(drops.fd.value, key, value)) return counts.fill(0);
      for (let i = 0; i < ncpu; i++) counts[i] = Number(view.getBigUint64(8 * i, true));
      return counts;
    };
  }

  /** The same count summed over CPUs (ring buffers are shared by all CPUs). */
  #ringDropCounter(name: string): (() => number) | undefined {
    const perCpu = this.#dropCounter(name);
    return perCpu && (() => perCpu().reduce((a, b) => a + b, 0));
  }

  /** Checks the perf buffers' loss counts now (exact: the program counts its failed perf_submit calls). */
  perfBufferLost(): number {
    let total = 0;
    for (const r of this.#perfBuffers.values()) {
      r.checkLost();
      total += r.lost;
    }
    return total;
  }

  /**
   * Checks the drop counters of every open ring buffer now, reporting increases to their lostCb, and returns
   * the total reported since the first openRingBuffer.
   */
  ringBufferLost(): number {
    if (!this.#ringManager) return 0;
    this.#ringManager.checkLost();
    return this.#ringManager.lost;
  }

  async ringBufferPoll(timeoutMs = -1): Promise<number> {
    if (!this.#ringManager) throw new TsbccError(ErrorCode.STATE, "no ring buffer is open (call openRingBuffer first)");
    return this.#ringManager.poll(timeoutMs);
  }

  ringBufferConsume(): number {
    if (!this.#ringManager) throw new TsbccError(ErrorCode.STATE, "no ring buffer is open (call openRingBuffer first)");
    return this.#ringManager.consume();
  }

  /**
   * The events of a BPF_PERF_OUTPUT or BPF_RINGBUF_OUTPUT table as an async iterator: decoded objects
   * (`decode`, default true, uses the struct type the program submits) or copies of the raw bytes. The table
   * gets its own reader for the iteration (so it must not also be open with openPerfBuffer/openRingBuffer),
   * closed when the loop ends, on break, or when `signal` aborts (the iteration then simply ends). Events are
   * taken from the kernel only when the loop has used up the previous batch, so a slow loop makes the kernel
   * drop events rather than this process grow: lost/dropped counts go to `lostCb(count)` (default: a stderr
   * notice).
   */
  events<T = any>(name: string, opts: { decode?: boolean; signal?: AbortSignal; lostCb?: (count: number) => void; pageCnt?: number } = {}):
    AsyncGenerator<T, void, undefined> {
    const m = this.#obj.maps.get(name);
    if (!m) throw new NoSuchTableError(name, userTableNames(this.#obj));
    if (m.spec.type !== MapType.PERF_EVENT_ARRAY && m.spec.type !== MapType.RINGBUF) {
      throw new ArgumentError("name", `"${name}" is not a BPF_PERF_OUTPUT or BPF_RINGBUF_OUTPUT table`);
    }
    const decoder = opts.decode === false ? undefined : this.#codec(name);
    const queue: T[] = [];
    const push = (data: Uint8Array): void => {
      queue.push((decoder ? decoder.decode(data, 0) : data.slice()) as T);
    };
    // Records taken from the kernel but never yielded (the loop ended first) count as lost, like kernel drops,
    // so that delivered + lost = produced however the iteration ends.
    const discard = (count: number): void => {
      if (opts.lostCb) opts.lostCb(count);
      else reportLost(count, `${name}: taken but not delivered, the iteration ended`);
    };
    let reader: PollingReader;
    let release: () => void;
    if (m.spec.type === MapType.PERF_EVENT_ARRAY) {
      if (this.#perfBuffers.has(name)) throw new TsbccError(ErrorCode.STATE, `a perf buffer is already open on "${name}"`);
      const pb = openPerfBuffer(m.fd.value, (_cpu, data) => push(data), {
        pageCnt: opts.pageCnt, lostCount: this.#dropCounter(name), lostCb: opts.lostCb ? (_cpu, count) => opts.lostCb!(count) : undefined,
      });
      this.#perfBuffers.set(name, pb);
      reader = pb;
      release = () => {
        if (this.#perfBuffers.get(name) === pb) this.#perfBuffers.delete(name);
        if (!pb.closed) pb.checkLost(); // the final count, while the rings still exist
        pb.close();
      };
    } else {
      const fd = this.#ringFd(name);
      const rm = new RingBufferManager();
      try {
        rm.add(fd, (data) => push(data), { lostCount: this.#ringDropCounter(name), lostCb: opts.lostCb });
      } catch (e) {
        rm.close();
        throw e;
      }
      this.#ringNames.add(name);
      this.#iterReaders.add(rm);
      reader = rm;
      release = () => {
        this.#ringNames.delete(name);
        this.#iterReaders.delete(rm);
        if (!rm.closed) rm.checkLost();
        rm.close();
      };
    }
    return iterateEvents(reader, queue, { release, discard }, opts.signal);
  }

  /**
   * Continuous delivery for tools (instead of `for (;;) await b.perfBufferPoll()`): every perf buffer and ring
   * buffer open now has its callbacks run straight from the event loop as events arrive, with no promise or timer
   * per wakeup. `onDrain(n)` follows each drain that delivered n > 0 records; errors thrown by callbacks go to
   * `onError` (default: uncaught). Returns the function that stops
   * it; until then the readers keep the process alive.
   */
  startPolling(opts: { onError?: (e: unknown) => void; onDrain?: (n: number) => void } = {}): () => void {
    const readers: PollingReader[] = [...this.#perfBuffers.values()];
    if (this.#ringManager) readers.push(this.#ringManager);
    if (readers.length === 0) throw new TsbccError(ErrorCode.STATE, "no perf buffer or ring buffer is open (call openPerfBuffer/openRingBuffer first)");
    const stops = readers.map((r) => r.watch(opts.onDrain, opts.onError));
    return () => stops.forEach((s) => s());
  }

  close(): void {
    // The final loss counts first, while the rings still exist: closing the object is one more way a reader ends.
    const readers: { checkLost(): number; close(): void }[] = [...this.#perfBuffers.values(), ...this.#iterReaders];
    if (this.#ringManager) readers.push(this.#ringManager);
    for (const r of readers) {
      try {
        r.checkLost();
      } catch {
        // a counter that cannot be read any more must not stop the teardown
      }
      r.close();
    }
    this.#perfBuffers.clear();
    this.#iterReaders.clear();
  }
}

/**
 * Yields what `reader`'s callback put in `queue`, polling whenever it is empty. The end (loop done, break, throw or
 * `signal` abort) runs once, before the reader closes: what is still in the kernel buffers is taken, the final
 * loss counts are read, and records taken but not yielded go to `end.discard`.
 */
async function* iterateEvents<T>(reader: PollingReader, queue: T[], end: { release: () => void; discard: (count: number) => void },
  signal?: AbortSignal): AsyncGenerator<T, void, undefined> {
  let next = 0; // queue[next] is the first record not yet yielded
  let ended = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    signal?.removeEventListener("abort", finish);
    try {
      if (!reader.closed) reader.consume();
    } finally {
      const undelivered = queue.length - next;
      queue.length = 0;
      next = 0;
      try {
        end.release(); // checkLost, then close: settles a waiting poll(), which ends the loop below
      } finally {
        if (undelivered > 0) end.discard(undelivered);
      }
    }
  };
  signal?.addEventListener("abort", finish, { once: true });
  try {
    for (;;) {
      while (next < queue.length) {
        if (signal?.aborted) return;
        yield queue[next++]!;
      }
      queue.length = 0;
      next = 0;
      if (signal?.aborted || reader.closed) return;
      await reader.poll(-1);
    }
  } finally {
    finish();
  }
}
