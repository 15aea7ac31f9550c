// filelife: one line per file created and then deleted while tracing, with its age. Its best sources are fentry
// (then kprobes) on security_inode_create (every create passes there) and vfs_unlink, whose dentry argument is
// found by name in the kernel's BTF (its position moved across versions). Without them it uses the syscall
// tracepoints: an open whose struct file has FMODE_CREATED marks a birth (the dentry from the fd), and an
// unlink(at) that succeeded ends the life of the file born with that name, confirmed by its dentry having lost its
// inode (or been unhashed) — so of two live files with the same name in different directories, the later is followed.
import { FMODE_CREATED } from "../sys/abi.js";
import { NoEventSourceError } from "./lib/errors.js";
import { clock, left } from "./lib/format.js";
import { fnProbeText, isFnKind, paramIndex, untypedArgs, type FnProbe } from "./lib/fn-probes.js";
import { pidOption } from "./lib/options.js";
import { chooseSource, type ChosenSource, type SourceCandidate } from "./lib/source.js";
import { eventStream, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { checkIntervalOptions, loadSourceProgram } from "./lib/top.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { FD_FILE_C } from "./lib/vfs-c.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "filelife";
const NAME_LEN = 32;

export interface FileLifeEvent {
  ts: bigint;
  /** The process that deleted the file. */
  pid: number;
  comm: string;
  /** Seconds from creation to deletion. */
  ageSeconds: number;
  /** The file's name (its last path component). */
  file: string;
}

export interface FilelifeOptions extends StreamOptions {
  pid?: number;
}

const FN_TARGETS = ["security_inode_create", "vfs_unlink"];
const SOURCES: readonly SourceCandidate[] = [
  { kind: "fentry", targets: FN_TARGETS },
  { kind: "kprobe", targets: FN_TARGETS },
  {
    kind: "tracepoint",
    targets: ["syscalls:sys_exit_openat", "syscalls:sys_exit_open?", "syscalls:sys_exit_creat?", "syscalls:sys_exit_openat2?",
      "syscalls:sys_enter_unlinkat", "syscalls:sys_exit_unlinkat", "syscalls:sys_enter_unlink?", "syscalls:sys_exit_unlink?"],
  },
];

function fnProbes(source: ChosenSource): FnProbe[] {
  const [create, unlink] = source.targets;
  const ci = paramIndex(create, "dentry");
  const ui = paramIndex(unlink, "dentry");
  if (ci === undefined || ui === undefined) {
    const fn = ci === undefined ? create : unlink;
    throw new NoEventSourceError(NAME, [`${source.kind}: the kernel's BTF names no dentry parameter of ${fn}`], "BTF for the create/unlink functions");
  }
  return [
    { fn: create, name: "on_create", args: untypedArgs(ci), body: `    return born((struct dentry *)a${ci});` },
    { fn: unlink, name: "on_unlink", args: untypedArgs(ui), body: `    return died(ctx, (struct dentry *)a${ui});` },
  ];
}

const TRACEPOINT_PART = `
${FD_FILE_C}
struct pending_t {
    char name[NAME_LEN];
};
struct path_scratch_t {
    char buf[128];
};
BPF_HASH(by_name, struct pending_t, u64, 10240);
BPF_HASH(unlinking, u32, struct pending_t, 1024);
BPF_PERCPU_ARRAY(scratch, struct path_scratch_t, 1);

static int opened(long fd) {
    struct file *f = fd_file(fd);
    if (!f) return 0;
    if (!(f->f_mode & TSBCC_FMODE_CREATED)) return 0;
    struct dentry *de = f->f_path.dentry;
    struct pending_t k = {};
    bpf_probe_read_kernel_str(&k.name, sizeof(k.name), de->d_name.name);
    u64 dp = (u64)de;
    by_name.update(&k, &dp);
    return born(de);
}

static int unlink_enter(const char *path) {
    // The last path component: scanned back from the end for at most NAME_LEN bytes (each step either stops or
    // goes on, so the verifier walks it once); names longer than that are not matched.
    int zero = 0;
    struct path_scratch_t *s = scratch.lookup(&zero);
    if (!s) return 0;
    long len = bpf_probe_read_user_str(s->buf, sizeof(s->buf), path);
    if (len <= 1) return 0;
    long start = 0;
    for (int j = 1; j <= NAME_LEN; j++) {
        long p = len - 1 - j;
        if (p < 0) break;
        if (s->buf[p & 127] == '/') { start = p + 1; break; }
    }
    struct pending_t k = {};
    bpf_probe_read_kernel_str(&k.name, sizeof(k.name), s->buf + (start & 127));
    u32 tid = (u32)bpf_get_current_pid_tgid();
    unlinking.update(&tid, &k);
    return 0;
}

static int unlink_exit(void *ctx, long ret) {
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct pending_t *k = unlinking.lookup(&tid);
    if (!k) return 0;
    u64 *dp = ret == 0 ? by_name.lookup(k) : NULL;
    if (dp) {
        struct dentry *de = (struct dentry *)*dp;
        // Unlinked: the dentry turned negative, or (still open elsewhere) was unhashed.
        if (de->d_inode == NULL || de->d_hash.pprev == NULL) {
            by_name.delete(k);
            died(ctx, de);
        }
    }
    unlinking.delete(&tid);
    return 0;
}
`;

function tracepointProbes(source: ChosenSource): string {
  return source.targets.map((t) => {
    const event = t.split(":")[1];
    if (event.startsWith("sys_exit_open") || event === "sys_exit_creat") return `TRACEPOINT_PROBE(syscalls, ${event}) {\n    return opened(args->ret);\n}\n`;
    if (event.startsWith("sys_enter_unlink")) return `TRACEPOINT_PROBE(syscalls, ${event}) {\n    return unlink_enter(args->pathname);\n}\n`;
    return `TRACEPOINT_PROBE(syscalls, ${event}) {\n    return unlink_exit(args, args->ret);\n}\n`;
  }).join("\n");
}

function program(o: FilelifeOptions, source: ChosenSource, k: ToolConstants): string {
  const probes = isFnKind(source.kind)
    ? fnProbes(source).map((p) => fnProbeText(source.kind as "fentry" | "kprobe", p)).join("\n")
    : TRACEPOINT_PART + tracepointProbes(source);
  return `
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/dcache.h>
${k.u32("FILTER_PID", o.pid ?? 0)}
#define NAME_LEN ${NAME_LEN}
#define TSBCC_FMODE_CREATED ${FMODE_CREATED}

struct life_event_t {
    u64 ts;
    u64 age_ns;
    u32 pid;
    u32 pad;
    char comm[TASK_COMM_LEN];
    char file[NAME_LEN];
};

BPF_HASH(birth, u64, u64, 10240);
BPF_PERF_OUTPUT(events);

static int traced(void) {
    return !FILTER_PID || (bpf_get_current_pid_tgid() >> 32) == FILTER_PID;
}

static int born(struct dentry *de) {
    if (!traced()) return 0;
    u64 key = (u64)de;
    u64 ts = bpf_ktime_get_ns();
    birth.update(&key, &ts);
    return 0;
}

static int died(void *ctx, struct dentry *de) {
    u64 key = (u64)de;
    u64 *ts = birth.lookup(&key);
    if (!ts) return 0;
    if (!traced()) return 0;
    struct life_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.age_ns = ev.ts - *ts;
    ev.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    bpf_probe_read_kernel_str(&ev.file, sizeof(ev.file), de->d_name.name);
    birth.delete(&key);
    events.perf_submit(ctx, &ev, sizeof(ev));
    return 0;
}

${probes}
`;
}

interface RawLife { ts: bigint; age_ns: bigint; pid: number; comm: string; file: string }

/** filelife as a library: one FileLifeEvent per file created and deleted while tracing. */
export async function filelife(opts: FilelifeOptions = {}, chosen?: ChosenSource): Promise<ToolStream<FileLifeEvent>> {
  checkIntervalOptions(NAME, opts);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const probes = isFnKind(source.kind) ? fnProbes(source) : [];
  const b = await loadSourceProgram(NAME, (k) => program(opts, source, k), source, () => probes);
  return eventStream<RawLife, FileLifeEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, pid: r.pid, comm: r.comm, ageSeconds: Number(r.age_ns) / 1e9, file: r.file,
  }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace lifecycle of file",
  json: "event",
  sources: SOURCES,
  options: [pidOption()],
  examples: [
    ["tsbcc filelife", "trace lifecycle of file(create->remove)"],
    ["tsbcc filelife -p 181", "only trace PID 181"],
    ["tsbcc filelife -v", "say which event source is used"],
    ["tsbcc filelife --json", "one JSON object per deleted file"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await filelife({ pid: o.pid, signal: run.signal }, run.source);
  if (!run.json) run.out.write(`${left("TIME", 8)} ${left("PID", 7)} ${left("COMM", 16)} ${left("AGE(s)", 7)} FILE\n`);
  return printEvents(stream, run, (ev) => `${left(clock(), 8)} ${left(ev.pid, 7)} ${left(ev.comm, 16)} ${left(ev.ageSeconds.toFixed(2), 7)} ${ev.file}\n`);
}

export const tool: CliTool = { spec, main };
