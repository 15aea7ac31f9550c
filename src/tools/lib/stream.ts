// How a tool's library function hands out its data: a `ToolStream`, an async iterable of typed events (snoopers)
// or of IntervalReports (histogram/counter tools), already loaded and attached when the promise resolves (so a
// caller that prints a header afterwards misses nothing), ending on `close()`, on its `signal`, after `count`
// intervals or `duration` seconds. Closing detaches and frees everything the tool created.
import { BPF, getPossibleCpus, type BPFLoadOptions } from "../../index.js";
import { ToolConstants, type ProgramText } from "./constants.js";
import { ToolProgramError } from "./errors.js";
import { mergeReports, type IntervalReport } from "./metrics.js";
import { currentReportSink, runErrOf } from "./report-sink.js";
import type { ChosenSource } from "./source.js";

export interface ToolStream<T> extends AsyncIterable<T> {
  /** The event source the tool uses (kind and resolved targets). */
  readonly source: ChosenSource;
  /** Stops the tool: the iteration ends (interval tools first yield the pending interval), everything is detached. */
  close(): void;
}

/** Options every library tool function takes. */
export interface StreamOptions {
  /** Ends the stream when aborted. */
  signal?: AbortSignal;
  /** Stop after this many seconds. */
  duration?: number;
  /** Force an event source instead of probing. */
  source?: ChosenSource["kind"];
}

/** Loads a tool's embedded program; any failure names the tool (it is the tool's program, not the user's). */
export async function loadToolProgram(tool: string, text: ProgramText, opts: Omit<BPFLoadOptions, "text" | "srcFile" | "constants"> = {}): Promise<BPF> {
  const k = new ToolConstants();
  const source = typeof text === "function" ? text(k) : text;
  try {
    return await BPF.load({ ...opts, text: source, constants: Object.keys(k.values).length ? k.values : undefined });
  } catch (e) {
    throw new ToolProgramError(tool, e);
  }
}

/** Runs `attach` on the loaded program; a failure closes it and names the tool. */
export function attachToolProgram(tool: string, b: BPF, attach: (b: BPF) => void): void {
  try {
    attach(b);
  } catch (e) {
    b.close();
    throw new ToolProgramError(tool, e);
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The abort signal combining the caller's signal and an optional duration. The duration is a plain timer on
 * `own`, cleared once the stream stops: Node 20's AbortSignal.timeout inside AbortSignal.any is held only weakly,
 * so a garbage collection before it fires drops it and the stream never ends (seen as a hung test in CI).
 */
export function stopSignal(opts: StreamOptions, own: AbortController): AbortSignal {
  const signal = opts.signal ? anySignal([own.signal, opts.signal]) : own.signal;
  if (opts.duration !== undefined && Number.isFinite(opts.duration) && !signal.aborted) {
    const timer = setTimeout(() => own.abort(), Math.min(Math.max(0, opts.duration * 1000), MAX_TIMER_MS));
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }
  return signal;
}

/**
 * A signal that aborts when any of `signals` does. Unlike Node 20's AbortSignal.any, each source holds a listener
 * (so a caller's AbortSignal.timeout stays alive until it fires), and the listeners go once it has aborted.
 */
export function anySignal(signals: AbortSignal[]): AbortSignal {
  const combined = new AbortController();
  const already = signals.find((s) => s.aborted);
  if (already) {
    combined.abort(already.reason);
    return combined.signal;
  }
  const listeners = signals.map((s) => {
    const listener = (): void => combined.abort(s.reason);
    s.addEventListener("abort", listener, { once: true });
    return [s, listener] as const;
  });
  combined.signal.addEventListener("abort", () => {
    for (const [s, listener] of listeners) s.removeEventListener("abort", listener);
  }, { once: true });
  return combined.signal;
}

/** Resolves after `ms` or as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    // An endless wait still holds a timer: it is what keeps the process alive until Ctrl-C (~24.8 days at most).
    const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
    signal.addEventListener("abort", done, { once: true });
  });
}

/** What eventStream takes besides the stream's options. */
export interface EventStreamOptions<T> extends StreamOptions {
  /** Data pages per CPU ring (default 8). */
  pageCnt?: number;
  /**
   * Wake this process once per this many records per CPU instead of per record (see batchedWakeup); records
   * below the threshold are still delivered within `maxLatencyMs` (default 50).
   */
  wakeupEvents?: number;
  maxLatencyMs?: number;
  /** Called after each drain that delivered records: events completed by the whole drain (e.g. execsnoop's). */
  drained?: () => Iterable<T> | undefined;
  /** Frees what the tool made besides the program (e.g. memleak -c's command), once, right after the program. */
  dispose?: () => void;
}

/** Events taken from the rings but not yet consumed past which the stream stops draining (the kernel drops). */
const MAX_QUEUED = 1 << 16;

/**
 * A per-CPU wakeup threshold for a ring of `pageCnt` pages and records of about `recordBytes`: a quarter of the
 * ring, at most 32 records. Waking per record costs the reader a loop turn each; a batch of 32 makes that
 * negligible while the ring keeps three quarters free for the records that arrive while the reader works.
 */
export function batchedWakeup(pageCnt: number, recordBytes: number, pageSize = 4096): number {
  return Math.max(1, Math.min(32, Math.floor((pageCnt * pageSize) / (recordBytes + 16) / 4)));
}

/**
 * The default ring size of a tool reading with batched wakeups: 128 pages per CPU up to 8 CPUs, BCC's 64 beyond.
 * A batched reader sleeps longer between drains, so a pause of the reader (a GC, a full stdout pipe, no free CPU)
 * finds the ring fuller: at ~100k opens/s on 2 CPUs, 64 pages lost 0.1-0.6% of the events and 128 pages none
 * (npm run bench:tools). The extra memory stays within 4 MiB.
 */
export function batchedRingPages(cpus = getPossibleCpus().length): number {
  return cpus <= 8 ? 128 : 64;
}

/**
 * Events of the program's perf output table `table`, each turned into the tool's event by `map` (undefined drops
 * it). The reader is open when this returns; the program is closed when the iteration ends, or as soon as the
 * stop signal aborts. While iterating, the rings are drained straight from the event loop's readiness callback
 * (BPF.startPolling: no promise or timer per wakeup); the iterator yields each drain's events as one batch. A
 * consumer that falls MAX_QUEUED events behind pauses the draining, so the kernel drops (and counts) rather than
 * this process growing.
 */
export function eventStream<R, T>(b: BPF, table: string, source: ChosenSource, opts: EventStreamOptions<T>,
  map: (raw: R) => T | undefined, lost?: (count: number) => void): ToolStream<T> {
  const own = new AbortController();
  const signal = stopSignal(opts, own);
  let queue: T[] = [];
  const batched = (opts.wakeupEvents ?? 1) > 1;
  const err = runErrOf(opts.signal);
  try {
    b.openPerfBuffer(table, (_cpu: number, raw: R) => {
      const ev = map(raw);
      if (ev !== undefined) queue.push(ev);
    }, {
      decode: true, pageCnt: opts.pageCnt, wakeupEvents: opts.wakeupEvents, maxLatencyMs: batched ? (opts.maxLatencyMs ?? 50) : undefined,
      lostCb: lost ?? ((n) => err.write(`Possibly lost ${n} samples\n`)),
    });
  } catch (e) {
    b.close();
    throw e;
  }
  let closed = false;
  let started = false;
  let wake: (() => void) | undefined;
  let failure: { error: unknown } | undefined;
  let stopPolling: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onDrain = (): void => {
    const extra = opts.drained?.();
    if (extra) for (const ev of extra) queue.push(ev);
    if (queue.length >= MAX_QUEUED) pause();
    notify();
  };
  const onError = (e: unknown): void => {
    failure ??= { error: e };
    notify();
  };
  const pause = (): void => {
    stopPolling?.();
    stopPolling = undefined;
  };
  const finish = (): void => {
    if (closed) return;
    closed = true;
    signal.removeEventListener("abort", finish);
    pause();
    b.close();
    opts.dispose?.();
    notify();
  };
  signal.addEventListener("abort", finish, { once: true });
  return {
    source,
    close: () => {
      own.abort();
      if (!started) finish();
    },
    async *[Symbol.asyncIterator]() {
      started = true;
      try {
        while (!signal.aborted) {
          if (failure) throw failure.error;
          if (queue.length === 0) {
            if (closed) break;
            stopPolling ??= b.startPolling({ onDrain, onError });
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          const batch = queue;
          queue = [];
          for (const ev of batch) {
            if (signal.aborted) break;
            yield ev;
          }
        }
      } finally {
        finish();
      }
    },
  };
}

/** How often a tool that prints only at the end is read while exporters are on (its output is unchanged). */
export const EXPORT_READ_MS = 1000;

/**
 * Interval reports: `collect(seconds)` is called every `interval` seconds (or only once at the end when
 * `interval` is undefined), the stream ends after `count` reports; on stop (close, signal, duration) the pending
 * interval is reported once more, as BCC prints its summary on Ctrl-C. `dispose` frees the tool's objects.
 * Each report also goes to the run's report sink (exporters); when the tool prints only at the end, exporters get
 * a report every EXPORT_READ_MS, and the printed one is their sum.
 */
export function intervalStream<T = IntervalReport>(source: ChosenSource, opts: StreamOptions & { interval?: number; count?: number },
  collect: (seconds: number) => T, dispose: () => void): ToolStream<T> {
  const own = new AbortController();
  const signal = stopSignal(opts, own);
  const sink = currentReportSink();
  // Only interval reports go to the exporters; stack tools stream other shapes through the same loop.
  const isReport = (r: unknown): r is IntervalReport =>
    typeof r === "object" && r !== null && Array.isArray((r as IntervalReport).metrics);
  const publish = (r: T): T => {
    if (isReport(r)) sink?.(r);
    return r;
  };
  let disposed = false;
  let started = false;
  let since = process.hrtime.bigint();
  const elapsed = (): number => {
    const now = process.hrtime.bigint();
    const seconds = Number(now - since) / 1e9;
    since = now;
    return seconds;
  };
  // Closed before anyone iterated: the data so far becomes the one report, and everything is freed at once.
  let closedReport: { value: T } | undefined;
  const finish = (): void => {
    if (!disposed) dispose();
    disposed = true;
  };
  return {
    source,
    close: () => {
      own.abort();
      if (!started && !disposed) {
        closedReport = { value: publish(collect(elapsed())) };
        finish();
      }
    },
    async *[Symbol.asyncIterator]() {
      started = true;
      try {
        if (closedReport) {
          yield closedReport.value;
          return;
        }
        if (disposed) return;
        if (sink && opts.interval === undefined) {
          let sum: T | undefined;
          do {
            await sleep(EXPORT_READ_MS, signal);
            const part = publish(collect(elapsed()));
            sum = sum !== undefined && isReport(sum) && isReport(part) ? (mergeReports(sum, part) as T) : part;
          } while (!signal.aborted);
          yield sum!;
          return;
        }
        let n = 0;
        const ms = opts.interval === undefined ? Infinity : opts.interval * 1000;
        do {
          await sleep(ms, signal);
          n++;
          yield publish(collect(elapsed()));
        } while (!signal.aborted && (opts.count === undefined || n < opts.count));
      } finally {
        finish();
      }
    },
  };
}
