// biosnoop: one line per block I/O with its process, disk, direction, sector, size and latency (with -Q the OS
// queue time, with -P whether it continued the disk's previous request: sequential or random), from block
// tracepoints: block_io_start (the submitter's pid and comm, when the kernel has it), block_rq_insert (queue start),
// block_rq_issue (device start) and block_rq_complete.
import { blockRequestTrackingC, COMPLETED_REQUEST_C } from "./lib/block-requests.js";
import { diskFilter, diskName } from "./lib/disks.js";
import { left, right } from "./lib/format.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "biosnoop";

export interface BioEvent {
  ts: bigint;
  pid: number;
  comm: string;
  disk: string;
  /** "R" read, "W" write, "D" discard, "F" flush, ... (first letter of the block layer's rwbs, flush prefix skipped). */
  rw: string;
  rwbs: string;
  sector: bigint;
  bytes: number;
  /** Device time, issue to completion, milliseconds. */
  latencyMs: number;
  /** OS queue time, insert to issue, milliseconds (0 when not queued or not measured). */
  queueMs: number;
  /**
   * With `pattern`: "sequential" when the request starts where the disk's previously completed request ended,
   * "random" when not, "unknown" for the first request seen on the disk.
   */
  pattern?: BioPattern;
}

export type BioPattern = "unknown" | "sequential" | "random";
const PATTERNS: readonly BioPattern[] = ["unknown", "sequential", "random"];
const PATTERN_LETTER: Record<BioPattern, string> = { unknown: "?", sequential: "S", random: "R" };

export interface BiosnoopOptions extends StreamOptions {
  disk?: string;
  /** Measure the OS queue time too. */
  queued?: boolean;
  /** Classify each request as sequential or random (BCC's -P). */
  pattern?: boolean;
}

const SOURCES = [{ kind: "tracepoint", targets: ["block:block_rq_issue", "block:block_rq_complete", "block:block_rq_insert?", "block:block_io_start?"] }] as const;

function program(o: BiosnoopOptions, dev: number, source: ChosenSource, k: ToolConstants): string {
  return `
${k.u32("FILTER_DEV", dev)}
#define WITH_PATTERN ${o.pattern ? 1 : 0}

struct bio_event_t {
    u64 ts;
    u64 sector;
    u64 latency_ns;
    u64 queue_ns;
    u32 pid;
    u32 dev;
    u32 bytes;
    u32 pattern;
    char rwbs[8];
    char comm[TASK_COMM_LEN];
};

${blockRequestTrackingC(source, { skip: "FILTER_DEV && args->dev != FILTER_DEV", stampInsert: true })}
BPF_PERF_OUTPUT(events);
// Per disk: the sector just past its last completed request (-P).
BPF_HASH(next_sector, u32, u64, 1024);

TRACEPOINT_PROBE(block, block_rq_complete) {${COMPLETED_REQUEST_C}
    if (s->issue_ts == 0) { state.delete(&k); return 0; }
    struct bio_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.sector = args->sector;
    ev.latency_ns = ev.ts - s->issue_ts;
    ev.queue_ns = s->insert_ts ? s->issue_ts - s->insert_ts : 0;
    ev.pid = s->pid;
    ev.dev = args->dev;
    ev.bytes = args->nr_sector * 512;
    if (WITH_PATTERN) {
        u32 dev = args->dev;
        u64 *expected = next_sector.lookup(&dev);
        ev.pattern = expected ? (*expected == args->sector ? 1 : 2) : 0;
        u64 next = args->sector + args->nr_sector;
        next_sector.update(&dev, &next);
    }
    #pragma unroll
    for (int i = 0; i < 8; i++) ev.rwbs[i] = args->rwbs[i];
    __builtin_memcpy(&ev.comm, s->comm, sizeof(ev.comm));
    state.delete(&k);
    events.perf_submit(args, &ev, sizeof(ev));
    return 0;
}
`;
}

interface RawBio { ts: bigint; sector: bigint; latency_ns: bigint; queue_ns: bigint; pid: number; dev: number; bytes: number; pattern: number; rwbs: string; comm: string }

/** The direction letter BCC's biosnoop shows, from the block layer's rwbs ("FWS" -> "W", "R" -> "R"). */
export function rwLetter(rwbs: string): string {
  return rwbs.length > 1 && rwbs[0] === "F" ? rwbs[1] : rwbs[0] ?? "?";
}

/** biosnoop as a library: one BioEvent per completed block request. */
export async function biosnoop(opts: BiosnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<BioEvent>> {
  const dev = diskFilter(NAME, opts.disk);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, dev, source, k));
  return eventStream<RawBio, BioEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, pid: r.pid, comm: r.comm, disk: diskName(r.dev), rw: rwLetter(r.rwbs), rwbs: r.rwbs, sector: BigInt(r.sector), bytes: r.bytes,
    latencyMs: Number(r.latency_ns) / 1e6, queueMs: opts.queued ? Number(r.queue_ns) / 1e6 : 0,
    ...(opts.pattern ? { pattern: PATTERNS[r.pattern] ?? "unknown" } : {}),
  }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace block I/O",
  json: "event",
  sources: SOURCES,
  options: [
    { name: "queue", short: "Q", long: "queue", kind: "flag", help: "include OS queued time" },
    { name: "disk", short: "d", long: "disk", kind: "value", help: "trace this disk only" },
    { name: "pattern", short: "P", long: "pattern", kind: "flag", help: "display block I/O pattern (sequential or random)" },
  ],
  examples: [
    ["tsbcc biosnoop", "trace all block I/O"],
    ["tsbcc biosnoop -Q", "include OS queued time"],
    ["tsbcc biosnoop -d sdc", "trace sdc only"],
    ["tsbcc biosnoop -P", "display block I/O pattern"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await biosnoop({ disk: o.disk, queued: o.queue, pattern: o.pattern, signal: run.signal }, run.source);
  if (!run.json) {
    run.out.write(`${left("TIME(s)", 11)} ${left("COMM", 14)} ${left("PID", 7)} ${left("DISK", 9)} T ${left("SECTOR", 10)} ${left("BYTES", 7)} ` +
      (o.pattern ? "P " : "") + (o.queue ? `${right("QUE(ms)", 7)} ` : "") + `${right("LAT(ms)", 7)}\n`);
  }
  let first: bigint | undefined;
  return printEvents(stream, run, (ev) => {
    first ??= ev.ts;
    return (`${left((Number(ev.ts - first) / 1e9).toFixed(6), 11)} ${left(ev.comm.slice(0, 14), 14)} ${left(ev.pid, 7)} ${left(ev.disk, 9)} ${ev.rw} ` +
      `${left(ev.sector, 10)} ${left(ev.bytes, 7)} ` + (ev.pattern ? `${PATTERN_LETTER[ev.pattern]} ` : "") + (o.queue ? `${right(ev.queueMs.toFixed(2), 7)} ` : "") + `${right(ev.latencyMs.toFixed(2), 7)}\n`);
  });
}

export const tool: CliTool = { spec, main };
