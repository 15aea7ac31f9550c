// Raw map walking: streams (key bytes, value bytes) in chunks, with BPF_MAP_LOOKUP_BATCH when the kernel has it
// for this map type, else BPF_MAP_GET_NEXT_KEY + BPF_MAP_LOOKUP_ELEM. Tables decode straight out of the chunk
// buffers, so a full walk of a large map costs a couple of syscalls and one decode per entry.
import { bpf, SyscallError } from "../../sys/index.js";

const ENOSPC = 28;
const EINVAL = 22;
const EOPNOTSUPP = 95;
/** The kernel-internal ENOTSUPP, which leaks to user space from the bpf() batch commands. */
const ENOTSUPP = 524;

/** Upper bound for one chunk's key+value buffers; whole-map buffers for all but huge maps. */
const CHUNK_BYTES = 64 << 20;
/** Entries gathered per chunk on the one-syscall-per-entry path (only bounds memory there). */
const FALLBACK_CHUNK = 1024;

/**
 * Walk buffers are reused across walks. A process that loads, walks and closes programs for hours would otherwise
 * ask the allocator for fresh whole-map buffers on every walk, between the allocations of loads and closes; the
 * holes this leaves grew RSS by ~50 MB over 2,000 cycles while the JS heap stayed flat. Buffers come in powers of
 * two so that maps of different sizes share them; a few are kept, none larger than POOL_MAX_BYTES.
 */
const POOL_MAX_BUFFERS = 4;
const POOL_MAX_BYTES = 8 << 20;
const POOL_MIN_BYTES = 4096;
const pool: ArrayBuffer[] = [];

/** A buffer of at least `bytes` (contents undefined: the kernel writes what is read back). */
function takeBuffer(bytes: number): Uint8Array {
  let best = -1;
  for (let i = 0; i < pool.length; i++) {
    if (pool[i]!.byteLength >= bytes && (best < 0 || pool[i]!.byteLength < pool[best]!.byteLength)) best = i;
  }
  if (best >= 0) return new Uint8Array(pool.splice(best, 1)[0]!, 0, bytes);
  let size = POOL_MIN_BYTES;
  while (size < bytes) size *= 2;
  return new Uint8Array(new ArrayBuffer(size), 0, bytes);
}

function giveBack(...bufs: Uint8Array[]): void {
  for (const b of bufs) {
    const ab = b.buffer as ArrayBuffer;
    if (ab.byteLength > POOL_MAX_BYTES || pool.includes(ab)) continue;
    if (pool.length >= POOL_MAX_BUFFERS) {
      // Keep the larger ones: they serve every smaller walk too.
      const smallest = pool.reduce((m, x, i) => (x.byteLength < pool[m]!.byteLength ? i : m), 0);
      if (pool[smallest]!.byteLength >= ab.byteLength) continue;
      pool.splice(smallest, 1);
    }
    pool.push(ab);
  }
}

/** Buffers held by the pool now (tests). */
export function pooledBytes(): number {
  return pool.reduce((n, b) => n + b.byteLength, 0);
}

/** What the walker needs to know about a map. */
export interface RawMap {
  readonly name: string;
  readonly mapType: number;
  readonly keySize: number;
  /** Bytes per value as the syscalls read and write them (per-CPU maps: round8(size) * possible CPUs). */
  readonly valueStride: number;
  readonly maxEntries: number;
  /** false forces the get_next_key + lookup path. */
  readonly useBatch: boolean;
  /** Entries per batch call (default: the whole map, within CHUNK_BYTES); small values exercise ENOSPC growth. */
  readonly batchEntries?: number | undefined;
  fdValue(): number;
}

export interface RawChunk {
  /** count * keySize bytes of keys. Reused after the consumer resumes the generator. */
  readonly keys: Uint8Array;
  /** count * valueStride bytes of values (meaningless when values were not requested on the fallback path). */
  readonly values: Uint8Array;
  readonly count: number;
}

// Answers of the batch probe, per map type and command (lookup vs lookup-and-delete).
const batchSupport = new Map<string, boolean>();

function unsupported(err: unknown): boolean {
  return err instanceof SyscallError && (err.errno === EINVAL || err.errno === ENOTSUPP || err.errno === EOPNOTSUPP);
}

/** Whether batch commands are known to work (true), known not to (false), or not yet tried (undefined). */
export function batchSupported(mapType: number, cmd: "lookup" | "lookupAndDelete" | "update" | "delete"): boolean | undefined {
  return batchSupport.get(`${mapType}:${cmd}`);
}

/**
 * Runs `attempt` (one batch syscall); the first failure with EINVAL/ENOTSUPP/EOPNOTSUPP for this map type marks
 * the command unsupported and returns undefined so the caller falls back. Later failures are real errors.
 */
export function tryBatch<R>(mapType: number, cmd: "lookup" | "lookupAndDelete" | "update" | "delete", attempt: () => R): R | undefined {
  const key = `${mapType}:${cmd}`;
  const known = batchSupport.get(key);
  if (known === false) return undefined;
  try {
    const r = attempt();
    if (known === undefined) batchSupport.set(key, true);
    return r;
  } catch (err) {
    if (known === undefined && unsupported(err)) {
      batchSupport.set(key, false);
      return undefined;
    }
    throw err;
  }
}

/** Forget probe answers (tests). */
export function resetBatchProbe(): void {
  batchSupport.clear();
}

/**
 * Streams every entry of the map. With `andDelete` the entries are removed as they are read. `withValues` false
 * lets the fallback path skip the per-key lookup (the batch path always reads values: the kernel requires it).
 */
export function* rawEntries(m: RawMap, withValues: boolean, andDelete = false): Generator<RawChunk> {
  if (m.useBatch) {
    const done = yield* batchEntries(m, andDelete);
    if (done) return;
  }
  yield* fallbackEntries(m, withValues || andDelete, andDelete);
}

// Returns false when batch lookups are not supported (nothing was yielded then).
function* batchEntries(m: RawMap, andDelete: boolean): Generator<RawChunk, boolean> {
  const cmd = andDelete ? "lookupAndDelete" : "lookup";
  if (batchSupport.get(`${m.mapType}:${cmd}`) === false) return false;
  const perEntry = m.keySize + m.valueStride;
  let cap = Math.max(1, m.batchEntries ?? Math.min(m.maxEntries, Math.floor(CHUNK_BYTES / perEntry)));
  let keys = takeBuffer(cap * m.keySize);
  let values = takeBuffer(cap * m.valueStride);
  try {
    return yield* batchLoop(m, cmd, andDelete, cap, keys, values, (k, v) => {
      giveBack(keys, values);
      [keys, values] = [k, v];
    });
  } finally {
    giveBack(keys, values);
  }
}

/** The batch calls of one walk; `grown` swaps in bigger buffers when a hash bucket does not fit. */
function* batchLoop(m: RawMap, cmd: string, andDelete: boolean, cap: number, keys: Uint8Array, values: Uint8Array,
  grown: (keys: Uint8Array, values: Uint8Array) => void): Generator<RawChunk, boolean> {
  // Hash maps use a u32 bucket cursor, other maps the previous key: room for either.
  const token = new Uint8Array(Math.max(8, m.keySize));
  let started = false;
  for (;;) {
    let r: bpf.BatchResult | undefined;
    try {
      r = bpf.mapLookupBatch(m.fdValue(), started ? token : null, token, keys, values, cap, andDelete);
    } catch (err) {
      if (err instanceof SyscallError && err.errno === ENOSPC) {
        // A hash bucket holds more entries than `cap`: the kernel never splits buckets, so grow and retry.
        cap *= 2;
        keys = takeBuffer(cap * m.keySize);
        values = takeBuffer(cap * m.valueStride);
        grown(keys, values);
        continue;
      }
      if (!started && batchSupport.get(`${m.mapType}:${cmd}`) === undefined && unsupported(err)) {
        batchSupport.set(`${m.mapType}:${cmd}`, false);
        return false;
      }
      throw err;
    }
    if (!started) batchSupport.set(`${m.mapType}:${cmd}`, true);
    started = true;
    if (r.count > 0) yield { keys, values, count: r.count };
    // count 0 without ENOENT would mean no progress: stop rather than spin.
    if (r.done || r.count === 0) return true;
  }
}

function* fallbackEntries(m: RawMap, withValues: boolean, andDelete: boolean): Generator<RawChunk> {
  const fd = m.fdValue();
  const ks = m.keySize;
  const vs = m.valueStride;
  const keys = takeBuffer(FALLBACK_CHUNK * ks);
  const values = withValues ? takeBuffer(FALLBACK_CHUNK * vs) : new Uint8Array(0);
  try {
    yield* fallbackLoop(fd, ks, vs, withValues, andDelete, keys, values);
  } finally {
    giveBack(keys, ...(withValues ? [values] : []));
  }
}

function* fallbackLoop(fd: number, ks: number, vs: number, withValues: boolean, andDelete: boolean, keys: Uint8Array,
  values: Uint8Array): Generator<RawChunk> {
  let cur = new Uint8Array(ks);
  let next = new Uint8Array(ks);
  const value = new Uint8Array(vs);
  let have = false;
  let n = 0;
  while (bpf.mapGetNextKey(fd, have ? cur : null, next)) {
    [cur, next] = [next, cur];
    have = true;
    if (withValues) {
      // A key deleted between get_next_key and lookup is skipped, as BCC does.
      if (!bpf.mapLookup(fd, cur, value)) continue;
      values.set(value, n * vs);
    }
    // After a delete, get_next_key from the vanished key restarts at the first remaining key: what we want.
    if (andDelete) bpf.mapDelete(fd, cur);
    keys.set(cur, n * ks);
    if (++n === FALLBACK_CHUNK) {
      yield { keys, values, count: n };
      n = 0;
    }
  }
  if (n > 0) yield { keys, values, count: n };
}

/** Every key of the map copied into one buffer (count * keySize bytes), for clear()/zero(). */
export function collectKeys(m: RawMap): { keys: Uint8Array; count: number } {
  const parts: Uint8Array[] = [];
  let count = 0;
  for (const ch of rawEntries(m, false)) {
    parts.push(ch.keys.slice(0, ch.count * m.keySize));
    count += ch.count;
  }
  const keys = new Uint8Array(count * m.keySize);
  let off = 0;
  for (const p of parts) {
    keys.set(p, off);
    off += p.byteLength;
  }
  return { keys, count };
}
