// Runs a tsbcc tool in-process as the command line would (runTool), capturing its output, for tool tests.
// A tool a failed test left running is stopped once the file's tests are done: otherwise its attachments and
// polling would keep the test process alive until the runner's timeout (a failure would turn into a long hang).
import { after } from "node:test";
import { runTool, type CliTool } from "../../src/tools/lib/tool.js";

const running = new Map<AbortController, Promise<number>>();
after(() => {
  for (const ac of running.keys()) ac.abort();
  return Promise.allSettled(running.values()).then(() => undefined);
});

export interface RunningTool {
  /** Everything written to stdout so far. */
  out(): string;
  err(): string;
  /** Waits until stdout matches `re` (or `ms` pass); returns the match or undefined. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray | undefined>;
  /** Ctrl-C: resolves with the exit status once the tool has finished. */
  stop(): Promise<number>;
  /** The exit status when the tool ends by itself. */
  done: Promise<number>;
}

export function startTool(tool: CliTool, argv: string[]): RunningTool {
  let out = "";
  let err = "";
  const ac = new AbortController();
  const done = runTool(tool, argv, { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) }, signal: ac.signal });
  let finished = false;
  running.set(ac, done);
  done.then(() => (finished = true), () => (finished = true)).finally(() => running.delete(ac));
  return {
    out: () => out,
    err: () => err,
    async waitFor(re, ms = 20000) {
      const end = Date.now() + ms;
      for (;;) {
        const m = out.match(re);
        if (m || Date.now() > end || finished) return m ?? undefined;
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop() {
      ac.abort();
      return done;
    },
    done,
  };
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Skip reason for tool tests: clang and root are needed. */
export async function toolSkip(): Promise<string | false> {
  const { haveClang } = await import("./build.js");
  return !haveClang ? "clang is needed" : process.getuid?.() !== 0 ? "needs root" : false;
}

/** Every item of a stream that ends by itself (e.g. a library tool given a `duration`). */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of stream) all.push(item);
  return all;
}
