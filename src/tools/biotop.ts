// biotop: block I/O per process, direction and disk, top-style, every interval: I/O count, Kbytes and the average
// device time. The block tracepoints carry all of it (BCC's kprobes on the accounting functions add nothing a
// tracepoint does not show): the submitter from block_io_start (or the process found at insert/issue on kernels
// without it), the device time from block_rq_issue to block_rq_complete, requests followed by (device, sector).
import { blockRequestTrackingC, COMPLETED_REQUEST_C } from "./lib/block-requests.js";
import { diskName } from "./lib/disks.js";
import { left, right } from "./lib/format.js";
import { report, toNumber, type CounterMetric, type IntervalReport } from "./lib/metrics.js";
import { intervalPositionals, pidOption, positiveInt, type IntervalOptions } from "./lib/options.js";
import { chooseSource, type ChosenSource, type SourceCandidate } from "./lib/source.js";
import { intervalStream, loadToolProgram, type ToolStream } from "./lib/stream.js";
import { checkIntervalOptions, runTop, writeTopHeader } from "./lib/top.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "biotop";
const MINOR_BITS = 20;

export interface BiotopOptions extends IntervalOptions {
  pid?: number;
}

/** One row: a process's I/O to one disk in one direction during the interval. */
export interface BioTopRow {
  pid: number;
  comm: string;
  /** "R" or "W". */
  dir: string;
  major: number;
  minor: number;
  disk: string;
  io: number;
  bytes: number;
  /** Summed device time, microseconds. */
  usecs: number;
}

const SOURCES: readonly SourceCandidate[] = [
  { kind: "tracepoint", targets: ["block:block_rq_issue", "block:block_rq_complete", "block:block_rq_insert?", "block:block_io_start?"] },
];

function program(o: BiotopOptions, source: ChosenSource, k: ToolConstants): string {
  return `
${k.u32("FILTER_PID", o.pid ?? 0)}

struct io_key_t {
    u32 pid;
    u32 dev;
    u32 write;
    u32 pad;
    char comm[TASK_COMM_LEN];
};

struct io_val_t {
    u64 bytes;
    u64 us;
    u64 io;
};

BPF_HASH(counts, struct io_key_t, struct io_val_t, 4096);
${blockRequestTrackingC(source)}
TRACEPOINT_PROBE(block, block_rq_complete) {${COMPLETED_REQUEST_C}
    if (s->issue_ts == 0 || (FILTER_PID && s->pid != FILTER_PID)) { state.delete(&k); return 0; }
    struct io_key_t key = {};
    key.pid = s->pid;
    key.dev = args->dev;
    for (int i = 0; i < 4; i++) if (args->rwbs[i] == 'W') key.write = 1;
    __builtin_memcpy(&key.comm, s->comm, sizeof(key.comm));
    u64 us = (bpf_ktime_get_ns() - s->issue_ts) / 1000;
    state.delete(&k);
    struct io_val_t zero = {};
    struct io_val_t *v = counts.lookup_or_try_init(&key, &zero);
    if (!v) return 0;
    __sync_fetch_and_add(&v->bytes, (u64)args->nr_sector * 512);
    __sync_fetch_and_add(&v->us, us);
    __sync_fetch_and_add(&v->io, 1);
    return 0;
}
`;
}

interface RawKey { pid: number; dev: number; write: number; comm: string }
interface RawVal { bytes: number | bigint; us: number | bigint; io: number | bigint }

const COLUMNS = [
  ["io", "block_io", "requests", "completed block requests"], ["bytes", "block_io_bytes", "bytes", "bytes of the completed requests"],
  ["usecs", "block_io_time", "usecs", "summed device time (issue to completion)"],
] as const;

/** The rows of a biotop IntervalReport (its three counters joined by labels). */
export function biotopRows(r: IntervalReport): BioTopRow[] {
  const [io, bytes, time] = r.metrics as CounterMetric[];
  return io.series.map((s, i) => {
    const l = s.labels;
    return { pid: Number(l.pid), comm: l.comm, dir: l.dir, major: Number(l.major), minor: Number(l.minor), disk: l.disk, io: s.value, bytes: bytes.series[i].value, usecs: time.series[i].value };
  });
}

/** biotop as a library: one IntervalReport per interval, counters block_io/block_io_bytes/block_io_time per process, direction and disk. */
export async function biotop(opts: BiotopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  checkIntervalOptions(NAME, opts);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, source, k));
  const counts = b.table("counts");
  const collect = (seconds: number): IntervalReport => {
    const rows: BioTopRow[] = ([...counts] as Array<[RawKey, RawVal]>).map(([k, v]) => ({
      pid: k.pid, comm: k.comm, dir: k.write ? "W" : "R", major: k.dev >>> MINOR_BITS, minor: k.dev & ((1 << MINOR_BITS) - 1), disk: diskName(k.dev),
      io: toNumber(v.io), bytes: toNumber(v.bytes), usecs: toNumber(v.us),
    }));
    counts.clear();
    const metrics: CounterMetric[] = COLUMNS.map(([field, name, unit, help]) => ({
      kind: "counter", name, unit, help,
      series: rows.map((r) => ({ labels: { pid: String(r.pid), comm: r.comm, dir: r.dir, major: String(r.major), minor: String(r.minor), disk: r.disk }, value: r[field] })),
    }));
    return report(NAME, seconds, metrics);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Block device (disk) I/O by process",
  json: "interval",
  sources: SOURCES,
  options: [
    { name: "noclear", short: "C", long: "noclear", kind: "flag", help: "don't clear the screen" },
    { name: "maxrows", short: "r", long: "maxrows", kind: "value", parse: positiveInt, default: 20, help: "maximum rows to print, default 20" },
    pidOption("trace this PID only"),
  ],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc biotop", "block device I/O top, 1 second refresh"],
    ["tsbcc biotop -C", "don't clear the screen"],
    ["tsbcc biotop -p 181", "only trace PID 181"],
    ["tsbcc biotop 5", "5 second summaries"],
    ["tsbcc biotop 5 10", "5 second summaries, 10 times only"],
    ["tsbcc biotop --json 1 3", "three JSON interval reports"],
  ],
};

/** Python's str() of a float (BCC prints Kbytes as a true division: "160.0", "4.5"). */
function pyFloat(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

function printTop(r: IntervalReport, o: Record<string, any>, run: ToolRun): void {
  writeTopHeader(run, o.noclear);
  run.out.write(`${left("PID", 7)} ${left("COMM", 16)} D ${left("MAJ", 3)} ${left("MIN", 3)} ${left("DISK", 8)} ${right("I/O", 5)} ${right("Kbytes", 7)} ${right("AVGms", 6)}\n`);
  const rows = biotopRows(r).sort((a, b) => b.bytes - a.bytes).slice(0, o.maxrows);
  for (const x of rows) {
    run.out.write(`${left(x.pid, 7)} ${left(x.comm, 16)} ${x.dir} ${left(x.major, 3)} ${left(x.minor, 3)} ${left(x.disk, 8)} ${right(x.io, 5)} ` +
      `${right(pyFloat(x.bytes / 1024), 7)} ${right((x.usecs / 1000 / x.io).toFixed(2), 6)}\n`);
  }
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const interval = o.interval ?? 1;
  const stream = await biotop({ pid: o.pid, interval, count: o.count, signal: run.signal }, run.source);
  return runTop(stream, run, interval, (r) => printTop(r, o, run));
}

export const tool: CliTool = { spec, main };
