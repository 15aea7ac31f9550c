// bashreadline: the command lines typed into interactive bash shells, read from the return value of readline()
// (a uretprobe on the bash binary's own readline, or on libreadline's with -s for shells linked against it).
import { UsageError } from "./lib/errors.js";
import { clock, left } from "./lib/format.js";
import type { ChosenSource } from "./lib/source.js";
import { attachToolProgram, eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { BPF } from "../index.js";

const NAME = "bashreadline";

export interface BashreadlineOptions extends Omit<StreamOptions, "source"> {
  /** The binary or library whose readline() to probe (default /bin/bash; BCC's -s: a libreadline path). */
  binary?: string;
}

export interface ReadlineEvent {
  pid: number;
  comm: string;
  command: string;
}

const PROGRAM = `
struct line_t {
    u32 pid;
    char comm[TASK_COMM_LEN];
    char str[80];
};
BPF_PERF_OUTPUT(events);

int on_readline_return(struct pt_regs *ctx) {
    if (!PT_REGS_RC(ctx)) return 0;
    struct line_t ev = {};
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    // Only shells: another program linked against libreadline is not a bash command line.
    if (ev.comm[0] != 'b' || ev.comm[1] != 'a' || ev.comm[2] != 's' || ev.comm[3] != 'h' || ev.comm[4] != 0) return 0;
    ev.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_probe_read_user_str(&ev.str, sizeof(ev.str), (void *)PT_REGS_RC(ctx));
    events.perf_submit(ctx, &ev, sizeof(ev));
    return 0;
}
`;

/** bashreadline as a library: one ReadlineEvent per line a shell read. */
export async function bashreadline(opts: BashreadlineOptions = {}): Promise<ToolStream<ReadlineEvent>> {
  const binary = opts.binary ?? "/bin/bash";
  if (typeof binary !== "string" || binary === "") throw new UsageError(NAME, "binary must be a path or library name");
  let path: string;
  let found: number;
  try {
    path = BPF.findLibrary(binary) ?? binary;
    found = BPF.getUserFunctions(path, "readline").length;
  } catch (e) {
    throw new UsageError(NAME, `${binary}: ${(e as Error).message}`);
  }
  if (found === 0) throw new UsageError(NAME, `${binary}: ${path} has no readline function`);
  const source: ChosenSource = { kind: "uprobe", targets: [`${path}:readline`], forced: false };
  const b = await loadToolProgram(NAME, PROGRAM);
  attachToolProgram(NAME, b, (x) => x.attachUretprobe({ name: path, sym: "readline", fnName: "on_readline_return" }));
  return eventStream<{ pid: number; comm: string; str: string }, ReadlineEvent>(b, "events", source, opts, (r) => ({ pid: r.pid, comm: r.comm, command: r.str }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Print entered bash commands from all running shells",
  json: "event",
  options: [{ name: "shared", short: "s", long: "shared", kind: "value", metavar: "SHARED", help: "specify the location of libreadline.so library (default: readline inside /bin/bash)" }],
  examples: [
    ["tsbcc bashreadline", "commands typed into every interactive bash"],
    ["tsbcc bashreadline -s /lib/x86_64-linux-gnu/libreadline.so.8", "a bash linked against libreadline"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await bashreadline({ binary: o.shared, signal: run.signal });
  if (!run.json) run.out.write(`${left("TIME", 9)} ${left("PID", 7)} COMMAND\n`);
  return printEvents(stream, run, (ev) => `${left(clock(), 9)} ${left(ev.pid, 7)} ${ev.command}\n`);
}

export const tool: CliTool = { spec, main };
