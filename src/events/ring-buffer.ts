// BPF ring buffer reader (BPF_MAP_TYPE_RINGBUF, kernel >= 5.8) and a manager that polls several of them, like
// BCC's single ring_buffer_poll()/ring_buffer_consume() over every ring a program opened.
//
// Kernel layout of one ring buffer map of `size` bytes (a power-of-two multiple of the page size):
//   offset 0:         one page holding the consumer position (u64), mapped read-write; we own it
//   offset PAGE:      one page holding the producer position (u64), then the data area, mapped read-only.
//                     The kernel maps the data pages twice in a row, so a record that starts near the end of the
//                     ring continues contiguously past it and never needs copying.
// Each record starts on an 8-byte boundary with an 8-byte header: u32 length whose bit 31 means BUSY (reserved,
// not yet submitted) and bit 30 DISCARD (skip it), then a u32 page offset the kernel uses internally.
import { ErrorCode, TsbccError, ArgumentError, ClosedError } from "../errors.js";
import { closeAtExit, mmapFd, munmap, PROT_READ, PROT_WRITE } from "../sys/index.js";
import { describeMap, mapBasics, MapType, pageSize, reportLost } from "./map-info.js";
import { PollingReader, type WatchStrategy } from "./readiness.js";

const BUSY_BIT = 0x80000000, DISCARD_BIT = 0x40000000, LEN_MASK = 0x3fffffff;
const HDR = 8;

/**
 * Called once per submitted record with `data` = exactly the bytes the program submitted (`size` of them).
 * Unless the ring was added with `copy: true`, `data` is a read-only view of kernel memory that is valid only
 * during the callback (the kernel reuses the space as soon as the consumer position moves): copy what you keep.
 * Returning a negative number stops draining; consume()/poll() then return that number (BCC semantics). The
 * record that returned it counts as consumed.
 */
export type RingBufferCallback = (data: Uint8Array, size: number) => number | void;

export interface RingBufferOptions {
  /** Hand callbacks a copy of each record instead of a view into the ring. */
  copy?: boolean;
  /**
   * Where drops are counted. Ring buffers lose nothing on the reader side: a record is lost when the program's
   * bpf_ringbuf_output/reserve fails because the ring is full, so the program has to count it (the dialect
   * compiler emits such a counter). This function returns the running total of those failures.
   */
  lostCount?: () => number | bigint;
  /** Receives increases of `lostCount()`. Default (when `lostCount` is set): a stderr notice. */
  lostCb?: (count: number) => void;
}

export interface RingBufferManagerOptions {
  /** How often consume()/poll() sample the `lostCount` sources at most, in ms (default 100; 0 = every time). */
  lostCheckIntervalMs?: number;
  /** Readiness strategy; "epoll" (default) unless you are measuring. */
  watch?: WatchStrategy;
}

interface Ring {
  mapFd: number;
  label: string;
  cb: RingBufferCallback;
  copy: boolean;
  size: number;
  page: number;
  consPtr: unknown;
  prodPtr: unknown;
  prodLen: number;
  cons64: BigUint64Array;
  prod64: BigUint64Array;
  u32: Uint32Array;
  buffer: ArrayBuffer;
  /** Consumer position as a JS number (exact up to 2^53 bytes). */
  cons: number;
  lostCount?: () => number | bigint;
  lostCb?: (count: number) => void;
  lostSeen: number;
}

export class RingBufferManager extends PollingReader {
  readonly #rings: Ring[] = [];
  readonly #lostInterval: number;
  #lastLostCheck = -Infinity;
  #lost = 0;
  readonly #unregister: () => void;

  constructor(opts: RingBufferManagerOptions = {}) {
    super(opts.watch, true);
    this.#lostInterval = opts.lostCheckIntervalMs ?? 100;
    this.#unregister = closeAtExit(this);
  }

  /** Starts reading one RINGBUF map. The map fd stays owned by the caller and must outlive the manager. */
  add(mapFd: number, cb: RingBufferCallback, opts: RingBufferOptions = {}): this {
    if (this.closed) throw new ClosedError("ring buffer manager");
    if (this.#rings.some((r) => r.mapFd === mapFd)) throw new TsbccError(ErrorCode.STATE, `ring buffer map fd ${mapFd} was already added`);
    const info = mapBasics(mapFd);
    if (info.type !== MapType.RINGBUF) throw new ArgumentError("mapFd", `${describeMap(info)} is not a BPF_MAP_TYPE_RINGBUF`);
    const size = info.maxEntries;
    const page = pageSize();
    const cons = mmapFd(mapFd, page, PROT_READ | PROT_WRITE, 0);
    const prodLen = page + 2 * size;
    let prod: { ptr: unknown; buffer: ArrayBuffer };
    try {
      prod = mmapFd(mapFd, prodLen, PROT_READ, page);
    } catch (e) {
      munmap(cons.ptr, page);
      throw e;
    }
    const cons64 = new BigUint64Array(cons.buffer, 0, 1);
    const ring: Ring = {
      mapFd, label: describeMap(info), cb, copy: opts.copy ?? false, size, page,
      consPtr: cons.ptr, prodPtr: prod.ptr, prodLen, cons64, prod64: new BigUint64Array(prod.buffer, 0, 1),
      u32: new Uint32Array(prod.buffer), buffer: prod.buffer, cons: Number(Atomics.load(cons64, 0)),
      lostCount: opts.lostCount, lostCb: opts.lostCb, lostSeen: 0,
    };
    try {
      this.readiness.add(mapFd);
    } catch (e) {
      munmap(cons.ptr, page);
      munmap(prod.ptr, prodLen);
      throw e;
    }
    this.#rings.push(ring);
    return this;
  }

  get size(): number {
    return this.#rings.length;
  }

  /** Total records reported lost through the `lostCount` sources. */
  get lost(): number {
    return this.#lost;
  }

  /** Fds and mappings this manager holds itself (map fds are the caller's). */
  get resources(): { fds: number; mappings: number } {
    return { fds: this.readiness.ownFds, mappings: 2 * this.#rings.length };
  }

  override poll(timeoutMs = -1): Promise<number> {
    if (!this.closed && this.#rings.length === 0) return Promise.reject(new TsbccError(ErrorCode.STATE, "no ring buffers to poll"));
    return super.poll(timeoutMs);
  }

  protected drain(): number {
    let n = 0;
    for (const ring of this.#rings) {
      const got = this.#drainRing(ring);
      if (got < 0) return got;
      n += got;
      if (this.closed) break;
    }
    if (!this.closed && performance.now() - this.#lastLostCheck >= this.#lostInterval) this.checkLost();
    return n;
  }

  #drainRing(r: Ring): number {
    let cons = r.cons;
    let committed = cons;
    let n = 0;
    let stop = 0;
    // Bound one call to a ring's worth of bytes so an endless producer cannot hold the event loop; whatever is
    // left is picked up by the next consume()/poll(), which always drains before it waits.
    const limit = cons + r.size;
    const page = r.page;
    const dataAt = (pos: number) => (page + (pos % r.size)) >> 2;
    try {
      let prod = Number(Atomics.load(r.prod64, 0));
      for (;;) {
        let busy = false;
        while (cons < prod) {
          const hdr = Atomics.load(r.u32, dataAt(cons)); // acquire: the record body is visible once its header is
          if (hdr & BUSY_BIT) {
            busy = true; // reserved but not submitted yet: come back on the next wakeup, do not spin here
            break;
          }
          const len = hdr & LEN_MASK;
          const start = page + (cons % r.size) + HDR;
          cons += (len + HDR + 7) & ~7;
          if (hdr & DISCARD_BIT) continue;
          n++;
          const data = r.copy ? new Uint8Array(r.buffer.slice(start, start + len)) : new Uint8Array(r.buffer, start, len);
          const ret = r.cb(data, len);
          if (typeof ret === "number" && ret < 0) {
            stop = ret;
            break;
          }
          if (this.closed) break;
        }
        if (stop || this.closed) break;
        if (cons !== committed) {
          // Sequentially consistent store (V8 emits xchg on x86-64), so the loads below cannot be ordered before it.
          Atomics.store(r.cons64, 0, BigInt(cons));
          committed = cons;
        }
        if (cons >= limit) {
          if (Number(Atomics.load(r.prod64, 0)) !== cons) this.backlog = true;
          break;
        }
        // Before going to sleep, look again. A producer that committed after our last look read the consumer
        // position before our store and may have decided we were not caught up, so it sent no wakeup. Anything
        // it publishes after this load will see our position and wake us.
        prod = Number(Atomics.load(r.prod64, 0));
        if (prod === cons) break;
        if (busy && Atomics.load(r.u32, dataAt(cons)) & BUSY_BIT) break;
      }
    } finally {
      if (cons !== committed) Atomics.store(r.cons64, 0, BigInt(cons));
      r.cons = cons;
    }
    return stop || n;
  }

  /**
   * Samples every `lostCount` source now and reports increases to the ring's `lostCb`. Returns the increase
   * across all rings. consume()/poll() call this on their own at most every `lostCheckIntervalMs`.
   */
  checkLost(): number {
    this.#lastLostCheck = performance.now();
    let delta = 0;
    for (const r of this.#rings) {
      if (!r.lostCount) continue;
      const total = Number(r.lostCount());
      const d = total - r.lostSeen;
      if (d <= 0) continue;
      r.lostSeen = total;
      delta += d;
      this.#lost += d;
      if (r.lostCb) r.lostCb(d);
      else reportLost(d, r.label);
    }
    return delta;
  }

  protected release(): void {
    this.#unregister();
    let first: unknown;
    for (const r of this.#rings.splice(0)) {
      for (const [ptr, len] of [[r.consPtr, r.page], [r.prodPtr, r.prodLen]] as const) {
        try {
          munmap(ptr, len);
        } catch (e) {
          first ??= e;
        }
      }
    }
    if (first) throw first;
  }
}

/** Convenience: a manager with one ring buffer (BCC's `open_ring_buffer` followed by the manager's poll). */
export function openRingBuffer(mapFd: number, cb: RingBufferCallback, opts: RingBufferOptions & RingBufferManagerOptions = {}): RingBufferManager {
  const m = new RingBufferManager(opts);
  try {
    return m.add(mapFd, cb, opts);
  } catch (e) {
    m.close();
    throw e;
  }
}
