// Shared by the examples: every one runs until Ctrl-C, or for `--duration SECONDS` so that tests and
// scripts can run it bounded. The signal lets an example stop its loop and still print its summary.

export interface RunOptions {
  /** Aborted on SIGINT/SIGTERM or when --duration runs out. */
  signal: AbortSignal;
  duration?: number;
}

export function runOptions(argv = process.argv.slice(2)): RunOptions {
  let duration: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split(/=(.*)/s, 2);
    if (name !== "--duration") continue;
    duration = Number(inline ?? argv[++i]);
    if (!Number.isFinite(duration) || duration <= 0) {
      process.stderr.write("--duration takes a positive number of seconds\n");
      process.exit(2);
    }
  }
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  if (duration !== undefined) setTimeout(stop, duration * 1000).unref();
  return { signal: ac.signal, duration };
}

/** Resolves when the signal aborts (for examples that only read tables at the end). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    // A timer keeps the event loop alive while we wait; it is cleared once we stop.
    const keepAlive = setInterval(() => {}, 1 << 30);
    signal.addEventListener("abort", () => { clearInterval(keepAlive); resolve(); }, { once: true });
  });
}

/** Polls a perf buffer until the signal aborts; short timeouts keep Ctrl-C responsive. */
export async function pollUntilAborted(b: { perfBufferPoll(ms: number): Promise<number> }, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) await b.perfBufferPoll(100);
}

/** Waits `ms`, or less when the signal aborts first (for examples that print once per interval). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The first positional argument (not an option, not an option's value), or exit 2 with `usage`. */
export function positional(usage: string, optionsWithValue: string[] = ["--duration"], argv = process.argv.slice(2)): string {
  const arg = argv.find((a, i) => !a.startsWith("--") && !optionsWithValue.includes(argv[i - 1] ?? ""));
  if (arg !== undefined) return arg;
  process.stderr.write(`usage: ${usage}\n`);
  process.exit(2);
}
