// biolatency: block I/O latency (issue -> completion, or insert -> completion with -Q) as a log2 histogram, per
// interval, optionally per disk (-D) or per I/O flags (-F). Events: block:block_rq_insert/issue/complete; a
// request is followed by its device and sector (what these tracepoints carry).
import { UsageError } from "./lib/errors.js";
import { diskFilter, diskName } from "./lib/disks.js";
import { addSums, formatHistogramReport, histogramMetric, readSlots } from "./lib/histogram.js";
import { report, type HistogramMetric, type IntervalReport, type Labels } from "./lib/metrics.js";
import { intervalPositionals, millisecondsOption, timeOption, type IntervalOptions } from "./lib/options.js";
import { chooseSource, sourceHas, type ChosenSource } from "./lib/source.js";
import { intervalStream, loadToolProgram, type ToolStream } from "./lib/stream.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "biolatency";

export interface BiolatencyOptions extends IntervalOptions {
  /** Include the time queued in the OS (from block_rq_insert). */
  queued?: boolean;
  milliseconds?: boolean;
  perDisk?: boolean;
  perFlags?: boolean;
  /** Only this disk (name, e.g. "sda"). */
  disk?: string;
}

const SOURCES = [{ kind: "tracepoint", targets: ["block:block_rq_issue", "block:block_rq_complete", "block:block_rq_insert?"] }] as const;

function program(o: BiolatencyOptions, dev: number, source: ChosenSource, k: ToolConstants): string {
  const insert = o.queued && sourceHas(source, "block:block_rq_insert");
  return `
${k.u32("FILTER_DEV", dev)}
#define BY_DISK ${o.perDisk ? 1 : 0}
#define BY_FLAGS ${o.perFlags ? 1 : 0}
#define QUEUED ${insert ? 1 : 0}
#define UNIT_NS ${o.milliseconds ? 1000000 : 1000}

struct rq_key_t {
    u64 sector;
    u32 dev;
    u32 pad;
};

struct hist_key_t {
    u64 flags;
    u32 dev;
    u32 pad;
    u64 slot;
};

struct section_key_t {
    u64 flags;
    u32 dev;
    u32 pad;
};

struct ext_t {
    u64 total;
    u64 count;
};

BPF_HASH(start, struct rq_key_t, u64, 10240);
BPF_HISTOGRAM(dist, struct hist_key_t, 4096);
BPF_HASH(ext, struct section_key_t, struct ext_t, 1024);

static int remember(u32 dev, u64 sector, int keep_existing) {
    if (FILTER_DEV && dev != FILTER_DEV) return 0;
    struct rq_key_t k = {};
    k.sector = sector;
    k.dev = dev;
    if (keep_existing && start.lookup(&k)) return 0;
    u64 ts = bpf_ktime_get_ns();
    start.update(&k, &ts);
    return 0;
}

${insert ? `TRACEPOINT_PROBE(block, block_rq_insert) {
    return remember(args->dev, args->sector, 0);
}` : ""}

TRACEPOINT_PROBE(block, block_rq_issue) {
    return remember(args->dev, args->sector, QUEUED);
}

TRACEPOINT_PROBE(block, block_rq_complete) {
    struct rq_key_t k = {};
    k.sector = args->sector;
    k.dev = args->dev;
    u64 *tsp = start.lookup(&k);
    if (!tsp) return 0;
    u64 delta = (bpf_ktime_get_ns() - *tsp) / UNIT_NS;
    start.delete(&k);
    struct hist_key_t hk = {};
    if (BY_DISK) hk.dev = args->dev;
    if (BY_FLAGS) {
        char *f = (char *)&hk.flags;
        #pragma unroll
        for (int i = 0; i < 8; i++) f[i] = args->rwbs[i];
    }
    hk.slot = bpf_log2l(delta);
    dist.atomic_increment(hk);
    struct section_key_t sk = {};
    sk.flags = hk.flags;
    sk.dev = hk.dev;
    struct ext_t zero = {};
    struct ext_t *e = ext.lookup_or_try_init(&sk, &zero);
    if (e) {
        __sync_fetch_and_add(&e->total, delta);
        __sync_fetch_and_add(&e->count, 1);
    }
    return 0;
}
`;
}

/** rwbs letters (as the block tracepoints print them) -> BCC's flag names, e.g. "WS" -> "Sync-Write". */
export function rwbsFlags(rwbs: string): string {
  const ops: Record<string, string> = { R: "Read", W: "Write", D: "Discard", E: "SecureErase", N: "NoOp" };
  let rest = rwbs;
  const mods: string[] = [];
  if (rest.startsWith("F") && rest.length > 1) { mods.push("PreFlush"); rest = rest.slice(1); }
  const op = ops[rest[0]] ?? (rest[0] === "F" ? "Flush" : rest[0] ?? "Unknown");
  for (const c of rest.slice(1)) {
    const m = ({ F: "ForcedUnitAccess", A: "ReadAhead", S: "Sync", M: "Metadata" } as Record<string, string>)[c];
    if (m) mods.push(m);
  }
  return [...mods, op].join("-");
}

function flagsText(flags: number | bigint): string {
  let v = BigInt(flags);
  let s = "";
  for (let i = 0; i < 8 && v !== 0n; i++, v >>= 8n) {
    const c = Number(v & 0xffn);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return rwbsFlags(s);
}

/** biolatency as a library: one IntervalReport per interval with the "block_io_latency" histogram. */
export async function biolatency(opts: BiolatencyOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  if (opts.perDisk && opts.perFlags) throw new UsageError(NAME, "per disk and per flags cannot be combined (BCC neither)");
  if (opts.interval !== undefined && !(opts.interval > 0)) throw new UsageError(NAME, `interval must be positive, got ${opts.interval}`);
  const dev = diskFilter(NAME, opts.disk);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, dev, source, k));
  const dist = b.table("dist");
  const ext = b.table("ext");
  const unit = opts.milliseconds ? "msecs" : "usecs";
  const labelsOf = (k: { flags: number | bigint; dev: number }): Labels =>
    opts.perDisk ? { disk: diskName(k.dev) } : opts.perFlags ? { flags: flagsText(k.flags) } : {};
  const collect = (seconds: number): IntervalReport => {
    const series = readSlots(dist, (k) => ({ labels: labelsOf(k), slot: Number(k.slot) }));
    addSums(series, ext, labelsOf);
    return report(NAME, seconds, [histogramMetric({ name: "block_io_latency", unit, help: "block device I/O latency" }, series.values())]);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Summarize block device I/O latency as a histogram",
  json: "interval",
  sources: SOURCES,
  options: [
    timeOption(),
    { name: "queued", short: "Q", long: "queued", kind: "flag", help: "include OS queued time in I/O time" },
    millisecondsOption(),
    { name: "disks", short: "D", long: "disks", kind: "flag", help: "print a histogram per disk device" },
    { name: "flags", short: "F", long: "flags", kind: "flag", help: "print a histogram per set of I/O flags" },
    { name: "extension", short: "e", long: "extension", kind: "flag", help: "summarize average/total value" },
    { name: "jsonAlias", short: "j", long: "json-bcc", kind: "flag", help: "json output (same as --json)" },
    { name: "disk", short: "d", long: "disk", kind: "value", help: "Trace this disk only" },
  ],
  positionals: intervalPositionals(),
  examples: [
    ["tsbcc biolatency", "summarize block I/O latency as a histogram"],
    ["tsbcc biolatency 1 10", "print 1 second summaries, 10 times"],
    ["tsbcc biolatency -mT 1", "1s summaries, milliseconds, and timestamps"],
    ["tsbcc biolatency -Q", "include OS queued time in I/O time"],
    ["tsbcc biolatency -D", "show each disk device separately"],
    ["tsbcc biolatency -F", "show I/O flags separately"],
    ["tsbcc biolatency -j", "print JSON interval reports"],
    ["tsbcc biolatency -e", "show extension summary(total, average)"],
    ["tsbcc biolatency -d sdc", "Trace sdc only"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.disks && o.flags) throw new UsageError(NAME, "argument -F/--flags: not allowed with argument -D/--disks");
  const json = run.json || o.jsonAlias;
  const stream = await biolatency({
    queued: o.queued, milliseconds: o.milliseconds, perDisk: o.disks, perFlags: o.flags, disk: o.disk,
    interval: o.interval, count: o.count, signal: run.signal,
  }, run.source);
  if (!json) run.out.write("Tracing block device I/O... Hit Ctrl-C to end.\n");
  for await (const r of stream) {
    if (json) run.emit(r);
    else {
      const section = o.disks ? (l: Labels) => `disk = ${l.disk}` : o.flags ? (l: Labels) => `flags = ${l.flags}` : undefined;
      run.out.write(formatHistogramReport(r.metrics[0] as HistogramMetric, { timestamp: o.timestamp, section, extension: o.extension }));
    }
  }
  return 0;
}

export const tool: CliTool = { spec, main };
