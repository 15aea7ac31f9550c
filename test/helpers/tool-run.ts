// Runs a tsbcc tool in-process as the command line would (runTool), capturing its output, for tool tests.
import { afterEach } from "node:test";
import { runTool, type CliTool } from "../../src/tools/lib/tool.js";

/** Tools started and not yet finished: a test that fails before stopping its tool must not hang its file. */
const running = new Set<() => Promise<number>>();

// After each test, Ctrl-C whatever it left running (a failed assertion skips the test's own stop()).
afterEach(async () => {
  const left = [...running];
  running.clear();
  await Promise.all(left.map((stop) => stop().catch(() => 1)));
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
  const stop = (): Promise<number> => {
    ac.abort();
    return done;
  };
  running.add(stop);
  done.then(() => (finished = true), () => (finished = true)).finally(() => running.delete(stop));
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
    stop,
    done,
  };
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Skip reason for tool tests: clang and root are needed. */
export async function toolSkip(): Promise<string | false> {
  const { haveClang } = await import("./build.js");
  return !haveClang ? "clang is needed" : process.getuid?.() !== 0 ? "needs root" : false;
}
