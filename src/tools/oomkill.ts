// oomkill: one line per OOM kill: who triggered it, which process was killed, its size, and the load average,
// from the oom:mark_victim tracepoint (the kernel marks the victim in the context of the task that ran out).
import { readFileSync } from "node:fs";
import { pageSize } from "../kernel/release.js";
import { clock } from "./lib/format.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";

const NAME = "oomkill";

export interface OomKillEvent {
  ts: bigint;
  /** The process that ran into the OOM (current when the victim was chosen). */
  triggerPid: number;
  triggerComm: string;
  victimPid: number;
  victimComm: string;
  /** The victim's memory, kB (total virtual, anonymous resident). */
  totalVmKb: number;
  anonRssKb: number;
}

export type OomkillOptions = StreamOptions;

const SOURCES = [{ kind: "tracepoint", targets: ["oom:mark_victim"] }] as const;

const PROGRAM = `
struct oom_event_t {
    u64 ts;
    u64 total_vm;
    u64 anon_rss;
    u32 tpid;
    u32 vpid;
    char tcomm[TASK_COMM_LEN];
    char vcomm[TASK_COMM_LEN];
};

BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(oom, mark_victim) {
    struct oom_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.tpid = bpf_get_current_pid_tgid() >> 32;
    ev.vpid = args->pid;
    ev.total_vm = args->total_vm;
    ev.anon_rss = args->anon_rss;
    bpf_get_current_comm(&ev.tcomm, sizeof(ev.tcomm));
    TP_DATA_LOC_READ_STR(ev.vcomm, comm, sizeof(ev.vcomm));
    events.perf_submit(args, &ev, sizeof(ev));
    return 0;
}
`;

interface RawOom { ts: bigint; total_vm: bigint | number; anon_rss: bigint | number; tpid: number; vpid: number; tcomm: string; vcomm: string }

/** oomkill as a library: one OomKillEvent per OOM kill. */
export async function oomkill(opts: OomkillOptions = {}, chosen?: ChosenSource): Promise<ToolStream<OomKillEvent>> {
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, PROGRAM);
  return eventStream<RawOom, OomKillEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, triggerPid: r.tpid, triggerComm: r.tcomm, victimPid: r.vpid, victimComm: r.vcomm,
    totalVmKb: Number(r.total_vm), anonRssKb: Number(r.anon_rss),
  }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace the kernel's out-of-memory killer",
  json: "event",
  sources: SOURCES,
  options: [],
  examples: [
    ["tsbcc oomkill", "one line per OOM kill"],
    ["tsbcc oomkill --json", "one JSON object per OOM kill"],
  ],
};

function loadavg(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").trim();
  } catch {
    return "?";
  }
}

async function main(_o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await oomkill({ signal: run.signal }, run.source);
  const pageKb = pageSize() / 1024;
  if (!run.json) run.out.write("Tracing OOM kills... Ctrl-C to stop.\n");
  return printEvents(stream, run, (ev) => {
    return (`${clock()} Triggered by PID ${ev.triggerPid} ("${ev.triggerComm}"), OOM kill of PID ${ev.victimPid} ("${ev.victimComm}"), ` +
      `${Math.trunc(ev.totalVmKb / pageKb)} pages, loadavg: ${loadavg()}\n`);
  }, (ev) => ({ ...ev, loadavg: loadavg() }));
}

export const tool: CliTool = { spec, main };
