// mountsnoop: one line per mount()/umount() with the call decoded as BCC prints it (flags by name, result as
// -ERRNO), from the syscall tracepoints; the mount namespace comes from the task's nsproxy (BTF).
import { constants } from "node:os";
import { MountFlags, UmountFlags } from "../sys/abi.js";
import { left } from "./lib/format.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { taskFilterC, taskFilterOptions, taskFilterValues, type TaskFilterOptions } from "./lib/task-filters.js";

const NAME = "mountsnoop";
const STR = 128;

export interface MountEvent {
  ts: bigint;
  call: "mount" | "umount";
  pid: number;
  tid: number;
  ppid: number;
  comm: string;
  parentComm: string;
  /** Inode number of the caller's mount namespace. */
  mntNs: number;
  /** mount: source, target, filesystem type, data; umount: target. */
  source?: string;
  target: string;
  fstype?: string;
  data?: string;
  flags: number;
  /** 0, or -errno. */
  ret: number;
}

export type MountsnoopOptions = StreamOptions & TaskFilterOptions;

const SOURCES = [{ kind: "tracepoint", targets: ["syscalls:sys_enter_mount", "syscalls:sys_exit_mount", "syscalls:sys_enter_umount", "syscalls:sys_exit_umount"] }] as const;

const PROGRAM = `
#include <linux/sched.h>
#include <linux/nsproxy.h>

enum call_t { CALL_MOUNT, CALL_UMOUNT };

struct args_t {
    int call;
    u64 flags;
    const char *source;
    const char *target;
    const char *fstype;
    const char *data;
};

struct mount_event_t {
    u64 ts;
    u64 flags;
    u32 pid;
    u32 tid;
    u32 ppid;
    u32 mnt_ns;
    int call;
    int ret;
    char comm[TASK_COMM_LEN];
    char pcomm[TASK_COMM_LEN];
    char source[${STR}];
    char target[${STR}];
    char fstype[32];
    char data[${STR}];
};

BPF_HASH(pending, u32, struct args_t, 1024);
BPF_PERCPU_ARRAY(scratch, struct mount_event_t, 1);
BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(syscalls, sys_enter_mount) {
    if (tsbcc_task_filtered()) return 0;
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct args_t a = {};
    a.call = CALL_MOUNT;
    a.flags = args->flags;
    a.source = args->dev_name;
    a.target = args->dir_name;
    a.fstype = args->type;
    a.data = args->data;
    pending.update(&tid, &a);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_umount) {
    if (tsbcc_task_filtered()) return 0;
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct args_t a = {};
    a.call = CALL_UMOUNT;
    a.flags = args->flags;
    a.target = args->name;
    pending.update(&tid, &a);
    return 0;
}

static int report(void *ctx, long ret) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = (u32)id;
    struct args_t *a = pending.lookup(&tid);
    if (!a) return 0;
    int zero = 0;
    struct mount_event_t *ev = scratch.lookup(&zero);
    if (!ev) { pending.delete(&tid); return 0; }
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    ev->ts = bpf_ktime_get_ns();
    ev->flags = a->flags;
    ev->pid = id >> 32;
    ev->tid = tid;
    ev->ppid = task->real_parent->tgid;
    ev->mnt_ns = task->nsproxy->mnt_ns->ns.inum;
    ev->call = a->call;
    ev->ret = ret;
    bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
    bpf_probe_read_kernel_str(&ev->pcomm, sizeof(ev->pcomm), task->real_parent->comm);
    ev->source[0] = 0;
    ev->fstype[0] = 0;
    ev->data[0] = 0;
    if (a->source) bpf_probe_read_user_str(&ev->source, sizeof(ev->source), a->source);
    bpf_probe_read_user_str(&ev->target, sizeof(ev->target), a->target);
    if (a->fstype) bpf_probe_read_user_str(&ev->fstype, sizeof(ev->fstype), a->fstype);
    if (a->data) bpf_probe_read_user_str(&ev->data, sizeof(ev->data), a->data);
    events.perf_submit(ctx, ev, sizeof(*ev));
    pending.delete(&tid);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_mount) {
    return report(args, args->ret);
}

TRACEPOINT_PROBE(syscalls, sys_exit_umount) {
    return report(args, args->ret);
}
`;

interface RawMount {
  ts: bigint; flags: bigint | number; pid: number; tid: number; ppid: number; mnt_ns: number; call: number; ret: number;
  comm: string; pcomm: string; source: string; target: string; fstype: string; data: string;
}

/** mountsnoop as a library: one MountEvent per mount()/umount(). */
export async function mountsnoop(opts: MountsnoopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<MountEvent>> {
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, taskFilterC(NAME, opts) + PROGRAM);
  return eventStream<RawMount, MountEvent>(b, "events", source, opts, (r) => {
    const common = { ts: r.ts, pid: r.pid, tid: r.tid, ppid: r.ppid, comm: r.comm, parentComm: r.pcomm, mntNs: r.mnt_ns, flags: Number(r.flags), ret: r.ret, target: r.target };
    return r.call === 0
      ? { ...common, call: "mount" as const, source: r.source, fstype: r.fstype, data: r.data }
      : { ...common, call: "umount" as const };
  });
}

function flagNames(flags: number, table: Record<string, number>): string {
  const names: string[] = [];
  let rest = flags;
  for (const [name, bit] of Object.entries(table)) {
    if (bit !== 0 && (flags & bit) === bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`);
  return names.length ? names.join("|") : "0x0";
}

function errnoText(ret: number): string {
  if (ret >= 0) return String(ret);
  const name = Object.entries(constants.errno).find(([, v]) => v === -ret)?.[0];
  return name ? `-${name}` : String(ret);
}

/** BCC's CALL column: `mount("src", "target", "type", MS_..., "data") = 0`. */
export function describeMountCall(ev: MountEvent): string {
  const q = (s: string | undefined): string => JSON.stringify(s ?? "");
  return ev.call === "mount"
    ? `mount(${q(ev.source)}, ${q(ev.target)}, ${q(ev.fstype)}, ${flagNames(ev.flags, MountFlags)}, ${q(ev.data)}) = ${errnoText(ev.ret)}`
    : `umount(${q(ev.target)}, ${flagNames(ev.flags, UmountFlags)}) = ${errnoText(ev.ret)}`;
}

export const spec: ToolSpec = {
  name: NAME,
  description: "trace mount() and umount() syscalls",
  json: "event",
  sources: SOURCES,
  options: [{ name: "parent", short: "P", long: "parent_process", kind: "flag", help: "also snoop the parent process" }, ...taskFilterOptions()],
  examples: [
    ["tsbcc mountsnoop", "trace mount() and umount() syscalls"],
    ["tsbcc mountsnoop -P", "also show the parent process"],
    ["tsbcc mountsnoop --json", "one JSON object per call"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await mountsnoop({ signal: run.signal, ...taskFilterValues(o) }, run.source);
  if (!run.json) {
    run.out.write(`${left("COMM", 16)} ${left("PID", 7)} ${left("TID", 7)} ` + (o.parent ? `${left("PCOMM", 16)} ${left("PPID", 7)} ` : "") + `${left("MNT_NS", 11)} CALL\n`);
  }
  return printEvents(stream, run, (ev) => {
    return (`${left(ev.comm, 16)} ${left(ev.pid, 7)} ${left(ev.tid, 7)} ` + (o.parent ? `${left(ev.parentComm, 16)} ${left(ev.ppid, 7)} ` : "") +
      `${left(ev.mntNs, 11)} ${describeMountCall(ev)}\n`);
  });
}

export const tool: CliTool = { spec, main };
