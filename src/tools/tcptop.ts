// tcptop: TCP bytes sent and received per process and connection, top-style, every interval. Best source: fentry
// (then kprobes) on tcp_sendmsg (the size a process hands over) and tcp_cleanup_rbuf (the bytes it copied out).
// Without them it uses the syscall tracepoints of the send and receive calls (write/writev/sendto/sendmsg,
// read/readv/recvfrom/recvmsg) on fds whose file is a TCP socket (fd -> file -> socket -> sock, from BTF), counting
// what each call returned; sendfile, splice and io_uring transfers are not seen there.
import { AddressFamily, IpProto } from "../sys/abi.js";
import { left, right } from "./lib/format.js";
import { fnProbeText, isFnKind, type FnProbe } from "./lib/fn-probes.js";
import { report, toNumber, type CounterMetric, type IntervalReport } from "./lib/metrics.js";
import { intervalPositionals, pidOption, type IntervalOptions } from "./lib/options.js";
import { chooseSource, type ChosenSource, type SourceCandidate } from "./lib/source.js";
import { intervalStream, type ToolStream } from "./lib/stream.js";
import { checkIntervalOptions, loadSourceProgram, runTop, writeTopHeader } from "./lib/top.js";
import { chosenFamily, familyNumber, familyOptions, formatAddr } from "./lib/tcp.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";
import { FD_FILE_C } from "./lib/vfs-c.js";
import type { ToolConstants } from "./lib/constants.js";
import { taskFilterC, taskFilterOptions, taskFilterValues, type TaskFilterOptions } from "./lib/task-filters.js";

const NAME = "tcptop";

export interface TcptopOptions extends IntervalOptions, TaskFilterOptions {
  pid?: number;
  ipVersion?: 4 | 6;
}

/** One row: a process's traffic on one connection during the interval. */
export interface TcpTopRow {
  pid: number;
  comm: string;
  ipVersion: 4 | 6;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
  rxBytes: number;
  txBytes: number;
}

const SEND = ["write", "writev", "sendto", "sendmsg"];
const RECV = ["read", "readv", "recvfrom", "recvmsg"];
const SOURCES: readonly SourceCandidate[] = [
  { kind: "fentry", targets: ["tcp_sendmsg", "tcp_cleanup_rbuf"] },
  { kind: "kprobe", targets: ["tcp_sendmsg", "tcp_cleanup_rbuf"] },
  { kind: "tracepoint", targets: [...SEND, ...RECV].flatMap((s) => [`syscalls:sys_enter_${s}`, `syscalls:sys_exit_${s}`]) },
];

function fnProbes(source: ChosenSource): FnProbe[] {
  const [send, cleanup] = source.targets;
  return [
    { fn: send, name: "on_tcp_sendmsg", args: "struct sock *sk, struct msghdr *msg, size_t size", body: "    return account(sk, size, 1);" },
    { fn: cleanup, name: "on_tcp_cleanup_rbuf", args: "struct sock *sk, int copied", body: "    if (copied <= 0) return 0;\n    return account(sk, copied, 0);" },
  ];
}

const SYSCALL_PART = `
${FD_FILE_C}
struct pending_io_t {
    struct sock *sk;
    u32 send;
    u32 pad;
};
BPF_HASH(pending, u32, struct pending_io_t, 10240);

static int io_enter(long fd, u32 send) {
    struct file *f = fd_file(fd);
    if (!f) return 0;
    umode_t mode = f->f_inode->i_mode;
    if (!S_ISSOCK(mode)) return 0;
    struct socket *sock = (struct socket *)f->private_data;
    if (!sock) return 0;
    struct sock *sk = sock->sk;
    if (!sk || sk->sk_protocol != IPPROTO_TCP_NR) return 0;
    struct pending_io_t p = {};
    p.sk = sk;
    p.send = send;
    u32 tid = (u32)bpf_get_current_pid_tgid();
    pending.update(&tid, &p);
    return 0;
}

static int io_exit(long ret) {
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct pending_io_t *p = pending.lookup(&tid);
    if (!p) return 0;
    struct pending_io_t copy = *p;
    pending.delete(&tid);
    if (ret <= 0) return 0;
    return account(copy.sk, ret, copy.send);
}
`;

function syscallProbes(): string {
  const enter = (s: string, send: boolean): string => `TRACEPOINT_PROBE(syscalls, sys_enter_${s}) {\n    return io_enter(args->fd, ${send ? 1 : 0});\n}\n`;
  const exit = (s: string): string => `TRACEPOINT_PROBE(syscalls, sys_exit_${s}) {\n    return io_exit(args->ret);\n}\n`;
  return [...SEND.map((s) => enter(s, true)), ...RECV.map((s) => enter(s, false)), ...[...SEND, ...RECV].map(exit)].join("\n");
}

function program(o: TcptopOptions, source: ChosenSource, k: ToolConstants): string {
  const probes = isFnKind(source.kind) ? fnProbes(source).map((p) => fnProbeText(source.kind as "fentry" | "kprobe", p)).join("\n") : SYSCALL_PART + syscallProbes();
  return `
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <net/sock.h>
${taskFilterC(NAME, o)}
${k.u32("FILTER_PID", o.pid ?? 0)}
#define FILTER_FAMILY ${familyNumber(o.ipVersion)}
#define AF_INET_NR ${AddressFamily.AF_INET}
#define AF_INET6_NR ${AddressFamily.AF_INET6}
#define IPPROTO_TCP_NR ${IpProto.IPPROTO_TCP}

struct flow_key_t {
    u32 pid;
    u16 family;
    u16 lport;
    u16 dport;
    u16 pad;
    u8 saddr[16];
    u8 daddr[16];
    char comm[TASK_COMM_LEN];
};

struct flow_val_t {
    u64 tx;
    u64 rx;
};

BPF_HASH(flows, struct flow_key_t, struct flow_val_t, 10240);

static int account(struct sock *sk, u64 bytes, int send) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (FILTER_PID && pid != FILTER_PID) return 0;
    if (tsbcc_task_filtered()) return 0;
    struct flow_key_t k = {};
    bpf_probe_read_kernel(&k.family, sizeof(k.family), &sk->__sk_common.skc_family);
    if (k.family != AF_INET_NR && k.family != AF_INET6_NR) return 0;
    if (FILTER_FAMILY && k.family != FILTER_FAMILY) return 0;
    k.pid = pid;
    bpf_probe_read_kernel(&k.lport, sizeof(k.lport), &sk->__sk_common.skc_num);
    u16 dport = 0;
    bpf_probe_read_kernel(&dport, sizeof(dport), &sk->__sk_common.skc_dport);
    k.dport = bpf_ntohs(dport);
    if (k.family == AF_INET_NR) {
        bpf_probe_read_kernel(&k.saddr, 4, &sk->__sk_common.skc_rcv_saddr);
        bpf_probe_read_kernel(&k.daddr, 4, &sk->__sk_common.skc_daddr);
    } else {
        bpf_probe_read_kernel(&k.saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
        bpf_probe_read_kernel(&k.daddr, 16, &sk->__sk_common.skc_v6_daddr);
    }
    bpf_get_current_comm(&k.comm, sizeof(k.comm));
    struct flow_val_t zero = {};
    struct flow_val_t *v = flows.lookup_or_try_init(&k, &zero);
    if (!v) return 0;
    if (send) __sync_fetch_and_add(&v->tx, bytes);
    else __sync_fetch_and_add(&v->rx, bytes);
    return 0;
}

${probes}
`;
}

interface RawKey { pid: number; family: number; lport: number; dport: number; saddr: Uint8Array; daddr: Uint8Array; comm: string }
interface RawVal { tx: number | bigint; rx: number | bigint }

/** The rows of a tcptop IntervalReport (its two counters joined by labels). */
export function tcptopRows(r: IntervalReport): TcpTopRow[] {
  const [rx, tx] = r.metrics as CounterMetric[];
  return rx.series.map((s, i) => {
    const l = s.labels;
    return { pid: Number(l.pid), comm: l.comm, ipVersion: l.family === "6" ? 6 : 4, laddr: l.laddr, lport: Number(l.lport), raddr: l.raddr, rport: Number(l.rport), rxBytes: s.value, txBytes: tx.series[i].value };
  });
}

/** tcptop as a library: one IntervalReport per interval, counters tcp_rx_bytes/tcp_tx_bytes per process and connection. */
export async function tcptop(opts: TcptopOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  checkIntervalOptions(NAME, opts);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadSourceProgram(NAME, (k) => program(opts, source, k), source, () => fnProbes(source));
  const flows = b.table("flows");
  const collect = (seconds: number): IntervalReport => {
    const rows: TcpTopRow[] = ([...flows] as Array<[RawKey, RawVal]>).map(([k, v]) => ({
      pid: k.pid, comm: k.comm, ipVersion: k.family === AddressFamily.AF_INET6 ? 6 : 4,
      laddr: formatAddr(k.family, k.saddr), lport: k.lport, raddr: formatAddr(k.family, k.daddr), rport: k.dport,
      rxBytes: toNumber(v.rx), txBytes: toNumber(v.tx),
    }));
    flows.clear();
    const labels = (r: TcpTopRow): Record<string, string> =>
      ({ pid: String(r.pid), comm: r.comm, family: String(r.ipVersion), laddr: r.laddr, lport: String(r.lport), raddr: r.raddr, rport: String(r.rport) });
    return report(NAME, seconds, [
      { kind: "counter", name: "tcp_rx_bytes", unit: "bytes", help: "TCP bytes received by the process", series: rows.map((r) => ({ labels: labels(r), value: r.rxBytes })) },
      { kind: "counter", name: "tcp_tx_bytes", unit: "bytes", help: "TCP bytes sent by the process", series: rows.map((r) => ({ labels: labels(r), value: r.txBytes })) },
    ]);
  };
  return intervalStream(source, opts, collect, () => b.close());
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Summarize TCP send/recv throughput by host",
  json: "interval",
  sources: SOURCES,
  options: [
    { name: "noclear", short: "C", long: "noclear", kind: "flag", help: "don't clear the screen" },
    { name: "nosummary", short: "S", long: "nosummary", kind: "flag", help: "skip system summary line" },
    pidOption(),
    ...taskFilterOptions(),
    ...familyOptions(),
  ],
  positionals: intervalPositionals("output interval, in seconds (default 1)"),
  examples: [
    ["tsbcc tcptop", "trace TCP send/recv by host"],
    ["tsbcc tcptop -C", "don't clear the screen"],
    ["tsbcc tcptop -p 181", "only trace PID 181"],
    ["tsbcc tcptop -4", "trace IPv4 family only"],
    ["tsbcc tcptop -6", "trace IPv6 family only"],
    ["tsbcc tcptop -C --json 1 3", "three JSON interval reports"],
  ],
};

function printTop(r: IntervalReport, o: Record<string, any>, run: ToolRun): void {
  writeTopHeader(run, o.noclear, !o.nosummary);
  const rows = tcptopRows(r).sort((a, b) => b.rxBytes + b.txBytes - (a.rxBytes + a.txBytes));
  for (const v of [4, 6] as const) {
    const mine = rows.filter((x) => x.ipVersion === v);
    if (mine.length === 0) continue;
    const w = v === 4 ? 21 : 32;
    run.out.write(`${v === 6 ? "\n" : ""}${left("PID", 7)} ${left("COMM", 12)} ${left(v === 4 ? "LADDR" : "LADDR6", w)} ${left(v === 4 ? "RADDR" : "RADDR6", w)} ${right("RX_KB", 6)} ${right("TX_KB", 6)}\n`);
    for (const x of mine) {
      run.out.write(`${left(x.pid, 7)} ${left(x.comm.slice(0, 12), 12)} ${left(`${x.laddr}:${x.lport}`, w)} ${left(`${x.raddr}:${x.rport}`, w)} ` +
        `${right(Math.trunc(x.rxBytes / 1024), 6)} ${right(Math.trunc(x.txBytes / 1024), 6)}\n`);
    }
  }
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const interval = o.interval ?? 1;
  const stream = await tcptop({ pid: o.pid, ipVersion: chosenFamily(NAME, o), interval, count: o.count, signal: run.signal, ...taskFilterValues(o) }, run.source);
  return runTop(stream, run, interval, (r) => printTop(r, o, run), false);
}

export const tool: CliTool = { spec, main };
