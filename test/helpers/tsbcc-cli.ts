// The real `tsbcc` command (the bundled dist/src/cli/tsbcc.mjs) as a child process for the exporter tests and the
// export bench: its stdout and stderr as they come, Ctrl-C (SIGINT, the tool prints its summary and exits), and
// parsers for what histogram tools print (BCC's "low -> high : count |***|" rows, one block per interval).
import { spawn, type ChildProcess } from "node:child_process";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

export const TSBCC_CLI = fileURLToPath(new URL("../../src/cli/tsbcc.mjs", import.meta.url));

export interface CliChild {
  child: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves with the match once stdout+stderr match `re` (rejects after `ms` or when the tool exits first). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Ctrl-C; resolves with the exit status. */
  interrupt(): Promise<number>;
  /** Resolves with the exit status when the tool ends. */
  exited: Promise<number>;
}

// A CLI child a failed test left running is killed once the file's tests are done (else the test process waits
// for it until the runner's timeout).
const live = new Set<ChildProcess>();
after(() => {
  for (const c of live) c.kill("SIGKILL");
});

export function startCli(args: string[]): CliChild {
  const child = spawn(process.execPath, [TSBCC_CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  child.on("exit", () => live.delete(child));
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number>((resolve) => child.on("exit", (code, sig) => resolve(code ?? (sig ? 128 : -1))));
  return {
    child,
    out: () => out,
    err: () => err,
    async waitFor(re, ms = 60_000) {
      const t0 = Date.now();
      for (;;) {
        const m = (out + err).match(re);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`tsbcc ${args.join(" ")} exited (${child.exitCode}) before ${re}:\n${out}\n${err}`);
        if (Date.now() - t0 > ms) throw new Error(`no ${re} after ${ms} ms:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    interrupt() {
      if (child.exitCode === null) child.kill("SIGINT");
      return exited;
    },
    exited,
  };
}

/** One histogram block's rows, count per bucket upper bound. */
export function histogramRows(text: string): Map<number, number> {
  const rows = new Map<number, number>();
  for (const m of text.matchAll(/^\s*(\d+) -> (\d+)\s*: (\d+)\s+\|/gm)) rows.set(Number(m[2]), (rows.get(Number(m[2])) ?? 0) + Number(m[3]));
  return rows;
}

/** The printed histograms of a tool without sections (e.g. runqlat), one per interval, in order. */
export function printedIntervals(text: string, unit = "usecs"): Map<number, number>[] {
  return text.split(new RegExp(`^\\s*${unit}\\s+: count\\s+distribution$`, "m")).slice(1).map(histogramRows);
}

/** The first `k` intervals summed: what a cumulative exporter holds after them. */
export function sumIntervals(intervals: Map<number, number>[], k = intervals.length): Map<number, number> {
  const sum = new Map<number, number>();
  for (const rows of intervals.slice(0, k)) for (const [high, c] of rows) sum.set(high, (sum.get(high) ?? 0) + c);
  return sum;
}

/** Expected cumulative count at upper bound `le` (Prometheus' `_bucket{le}`). */
export function cumulativeAt(sums: Map<number, number>, le: number): number {
  let n = 0;
  for (const [high, c] of sums) if (high <= le) n += c;
  return n;
}
