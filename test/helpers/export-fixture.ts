// Starts test/kernel/fixtures/export-runqlat.js (a runqlat-like tool on the public API, with exporters) and
// parses what it prints: the log2 histogram of each interval, summed by bucket upper bound.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("../kernel/fixtures/export-runqlat.js", import.meta.url));

export interface RunqlatFixture {
  child: ChildProcess;
  /** Everything printed so far. */
  out(): string;
  /** Resolves when the output contains `text` (rejects after `ms`). */
  waitFor(text: string | RegExp, ms?: number): Promise<string>;
  /** Freezes counting, prints the last interval; resolves with the output up to "DONE" (and "PUSHED" with OTLP). */
  stop(pushed?: boolean): Promise<string>;
  kill(): Promise<void>;
}

export function startRunqlatFixture(args: string[]): RunqlatFixture {
  const child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  const waitFor = async (text: string | RegExp, ms = 60_000): Promise<string> => {
    const t0 = Date.now();
    const has = (): boolean => (typeof text === "string" ? out.includes(text) : text.test(out));
    while (!has()) {
      if (child.exitCode !== null) throw new Error(`fixture exited (${child.exitCode}) before "${text}":\n${out}`);
      if (Date.now() - t0 > ms) throw new Error(`no "${text}" after ${ms} ms:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  };
  return {
    child,
    out: () => out,
    waitFor,
    async stop(pushed = false) {
      child.stdin!.write("stop\n");
      await waitFor("DONE");
      return pushed ? waitFor("PUSHED") : out;
    },
    async kill() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
    },
  };
}

/** Printed rows "low -> high : count |...|" of every interval, summed per bucket upper bound. */
export function sumPrintedHistograms(text: string): Map<number, number> {
  const sums = new Map<number, number>();
  for (const m of text.matchAll(/^\s*(\d+) -> (\d+)\s*: (\d+)\s+\|/gm)) {
    const high = Number(m[2]);
    sums.set(high, (sums.get(high) ?? 0) + Number(m[3]));
  }
  return sums;
}

/** Expected cumulative count at upper bound `le` (Prometheus' `_bucket{le}`). */
export function cumulativeAt(sums: Map<number, number>, le: number): number {
  let n = 0;
  for (const [high, c] of sums) if (high <= le) n += c;
  return n;
}
