// tcpaccept: one line per accepted TCP connection, naming the process that called accept(). Events come from the
// accept/accept4 syscall exit tracepoints; the new socket is found through the returned fd in the task's file
// table, and its addresses are read from struct sock (BTF).
import { UsageError } from "./lib/errors.js";
import { clock, left } from "./lib/format.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { ADDR_FIELDS, TCP_DEFINES, familyNumber, chosenFamily, familyOptions, endpoints, parsePortList, portCondition, type TcpEndpoints } from "./lib/tcp.js";
import { checkTcpFilters } from "./tcplife.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { pidOption, timeOption } from "./lib/options.js";
import { taskFilterC, taskFilterOptions, taskFilterValues, type TaskFilterOptions } from "./lib/task-filters.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "tcpaccept";

export interface TcpAcceptEvent extends TcpEndpoints {
  ts: bigint;
  pid: number;
  comm: string;
}

export interface TcpacceptOptions extends StreamOptions, TaskFilterOptions {
  pid?: number;
  /** Local ports. */
  ports?: number[];
  ipVersion?: 4 | 6;
}

const SOURCES = [{ kind: "tracepoint", targets: ["syscalls:sys_exit_accept4", "syscalls:sys_exit_accept?"] }] as const;

function program(o: TcpacceptOptions, withAccept: boolean, filterC: string, k: ToolConstants): string {
  return `
#include <linux/sched.h>
${filterC}
#include <linux/fdtable.h>
#include <net/sock.h>
${TCP_DEFINES}
${k.u32("FILTER_PID", o.pid ?? 0)}
#define FILTER_FAMILY ${familyNumber(o.ipVersion)}

struct accept_event_t {
    u64 ts;
    u32 pid;
    u32 pad;
    ${ADDR_FIELDS}
    char comm[TASK_COMM_LEN];
};

BPF_PERF_OUTPUT(events);

static int report(void *ctx, long fd) {
    if (fd < 0) return 0;
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (FILTER_PID && pid != FILTER_PID) return 0;
    if (tsbcc_task_filtered()) return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct file **fds = task->files->fdt->fd;
    struct file *f = NULL;
    bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
    if (!f) return 0;
    struct socket *sock = (struct socket *)f->private_data;
    if (!sock) return 0;
    struct sock *sk = sock->sk;
    if (!sk) return 0;
    u16 family = sk->__sk_common.skc_family;
    if (family != AF_INET_NR && family != AF_INET6_NR) return 0;
    if (FILTER_FAMILY && family != FILTER_FAMILY) return 0;
    if (sk->sk_protocol != IPPROTO_TCP_NR) return 0;
    u16 lport = sk->__sk_common.skc_num;
    if (!${portCondition("lport", o.ports)}) return 0;
    struct accept_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.pid = pid;
    ev.family = family;
    ev.sport = lport;
    ev.dport = bpf_ntohs(sk->__sk_common.skc_dport);
    if (family == AF_INET_NR) {
        bpf_probe_read_kernel(&ev.saddr, 4, &sk->__sk_common.skc_rcv_saddr);
        bpf_probe_read_kernel(&ev.daddr, 4, &sk->__sk_common.skc_daddr);
    } else {
        bpf_probe_read_kernel(&ev.saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
        bpf_probe_read_kernel(&ev.daddr, 16, &sk->__sk_common.skc_v6_daddr);
    }
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    events.perf_submit(ctx, &ev, sizeof(ev));
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_accept4) {
    return report(args, args->ret);
}
${withAccept ? `TRACEPOINT_PROBE(syscalls, sys_exit_accept) {
    return report(args, args->ret);
}` : ""}
`;
}

interface RawAccept { ts: bigint; pid: number; comm: string; saddr: Uint8Array; daddr: Uint8Array; sport: number; dport: number; family: number }

/** tcpaccept as a library: one TcpAcceptEvent per accepted TCP connection. */
export async function tcpaccept(opts: TcpacceptOptions = {}, chosen?: ChosenSource): Promise<ToolStream<TcpAcceptEvent>> {
  checkTcpFilters(NAME, { ...opts, localPorts: opts.ports });
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, source.targets.includes("syscalls:sys_exit_accept"), taskFilterC(NAME, opts), k));
  return eventStream<RawAccept, TcpAcceptEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, pid: r.pid, comm: r.comm, ...endpoints(r),
  }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace TCP accepts",
  json: "event",
  sources: SOURCES,
  options: [
    { name: "time", short: "T", long: "time", kind: "flag", help: "include time column on output (HH:MM:SS)" },
    timeOption(undefined, "t"),
    pidOption(),
    { name: "port", short: "P", long: "port", kind: "value", parse: parsePortList, help: "comma-separated list of local ports to trace" },
    ...familyOptions(),
    ...taskFilterOptions(),
  ],
  examples: [
    ["tsbcc tcpaccept", "trace all TCP accept()s"],
    ["tsbcc tcpaccept -t", "include timestamps"],
    ["tsbcc tcpaccept -P 80,81", "only trace port 80 and 81"],
    ["tsbcc tcpaccept -p 181", "only trace PID 181"],
    ["tsbcc tcpaccept -4", "trace IPv4 family"],
    ["tsbcc tcpaccept -6", "trace IPv6 family"],
    ["tsbcc tcpaccept --cgroupmap mappath", "only trace cgroups in this BPF map"],
    ["tsbcc tcpaccept --mntnsmap mappath", "only trace mount namespaces in the map"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await tcpaccept({ pid: o.pid, ports: o.port, ipVersion: chosenFamily(NAME, o), signal: run.signal, ...taskFilterValues(o) }, run.source);
  if (!run.json) {
    run.out.write((o.time ? left("TIME", 9) : "") + (o.timestamp ? left("TIME(s)", 9) : "") +
      `${left("PID", 7)} ${left("COMM", 12)} ${left("IP", 2)} ${left("RADDR", 16)} ${left("RPORT", 5)} ${left("LADDR", 16)} LPORT\n`);
  }
  let first: bigint | undefined;
  return printEvents(stream, run, (ev) => {
    first ??= ev.ts;
    return ((o.time ? left(clock(), 9) : "") + (o.timestamp ? left((Number(ev.ts - first) / 1e9).toFixed(3), 9) : "") +
      `${left(ev.pid, 7)} ${left(ev.comm.slice(0, 12), 12)} ${left(ev.ipVersion, 2)} ${left(ev.remoteAddr, 16)} ${left(ev.remotePort, 5)} ${left(ev.localAddr, 16)} ${ev.localPort}\n`);
  });
}

export const tool: CliTool = { spec, main };
