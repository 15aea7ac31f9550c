// tcpconnect: one line per active TCP open (connect()), from sock:inet_sock_set_state: the connecting process is
// recorded when the socket enters SYN_SENT (in its context), and the line is printed when it leaves SYN_SENT,
// once the local port is known. -c counts connects per address pair instead; -d adds the name the destination was
// looked up as (lib/dns-names.ts: uprobes on libc's getaddrinfo).
import { UsageError } from "./lib/errors.js";
import { left } from "./lib/format.js";
import { uidOption, pidOption, printUidOption, timeOption } from "./lib/options.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { attachToolProgram, eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import {
  ADDR_FIELDS, COPY_ADDRS, TCP_DEFINES, familyNumber, chosenFamily, familyOptions, endpoints, parsePortList, portCondition, tcpStateDefines, tcpStateName, type TcpEndpoints,
} from "./lib/tcp.js";
import { TCP_STATE_SOURCES, checkTcpFilters } from "./tcplife.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { attachDnsProbes, dnsNamesC, DNS_NAME_LEN, queryColumn } from "./lib/dns-names.js";
import { taskFilterC, taskFilterOptions, taskFilterValues, type TaskFilterOptions } from "./lib/task-filters.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "tcpconnect";

export interface TcpConnectEvent extends TcpEndpoints {
  ts: bigint;
  pid: number;
  uid: number;
  comm: string;
  /** The state it left SYN_SENT for: "ESTABLISHED", or "CLOSE" when the connect failed. */
  result: string;
  /** With `dns`: the name getaddrinfo resolved to the destination address (undefined when none did). */
  query?: string;
  /** With `dns`, when `query` is set: how long before the connect the name was resolved, ms. */
  queryAgeMs?: number;
}

export interface TcpconnectOptions extends StreamOptions, TaskFilterOptions {
  pid?: number;
  uid?: number;
  /** Destination ports. */
  ports?: number[];
  ipVersion?: 4 | 6;
  /** Also trace getaddrinfo and give each connect the name its destination was resolved from (BCC's -d). */
  dns?: boolean;
}

function program(o: TcpconnectOptions, filterC: string, k: ToolConstants): string {
  return `
${filterC}
${TCP_DEFINES}
${tcpStateDefines()}
${k.u32("FILTER_PID", o.pid ?? 0)}
${k.s64("FILTER_UID", o.uid ?? -1)}
#define FILTER_FAMILY ${familyNumber(o.ipVersion)}
${o.dns ? dnsNamesC() : ""}

struct who_t {
    u32 pid;
    u32 uid;
    char comm[TASK_COMM_LEN];
};

struct connect_event_t {
    u64 ts;
    u32 pid;
    u32 uid;
    int newstate;
    ${ADDR_FIELDS}
    char comm[TASK_COMM_LEN];
    u64 query_age_ns;
    char query[${o.dns ? DNS_NAME_LEN : 1}];
};

BPF_HASH(connecting, u64, struct who_t, 10240);
BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(sock, inet_sock_set_state) {
    if (args->protocol != IPPROTO_TCP_NR) return 0;
    if (FILTER_FAMILY && args->family != FILTER_FAMILY) return 0;
    u64 sk = (u64)args->skaddr;
    if (args->newstate == TCPS_SYN_SENT) {
        u16 rport = args->dport;
        if (!${portCondition("rport", o.ports)}) return 0;
        struct who_t who = {};
        who.pid = bpf_get_current_pid_tgid() >> 32;
        who.uid = bpf_get_current_uid_gid();
        if (FILTER_PID && who.pid != FILTER_PID) return 0;
        if (FILTER_UID >= 0 && who.uid != (u32)FILTER_UID) return 0;
        if (tsbcc_task_filtered()) return 0;
        bpf_get_current_comm(&who.comm, sizeof(who.comm));
        connecting.update(&sk, &who);
        return 0;
    }
    if (args->oldstate != TCPS_SYN_SENT) return 0;
    struct who_t *w = connecting.lookup(&sk);
    if (!w) return 0;
    struct connect_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.pid = w->pid;
    ev.uid = w->uid;
    ev.newstate = args->newstate;
    __builtin_memcpy(&ev.comm, w->comm, sizeof(ev.comm));
    connecting.delete(&sk);
    ${COPY_ADDRS("(&ev)")}
    ${o.dns ? "ev.query_age_ns = dns_name_of(ev.family, ev.daddr, ev.ts, ev.query);" : ""}
    events.perf_submit(args, &ev, sizeof(ev));
    return 0;
}
`;
}

interface RawConnect {
  ts: bigint; pid: number; uid: number; newstate: number; comm: string; query_age_ns: bigint; query: string;
  saddr: Uint8Array; daddr: Uint8Array; sport: number; dport: number; family: number;
}

/** tcpconnect as a library: one TcpConnectEvent per connect() (when its outcome is known). */
export async function tcpconnect(opts: TcpconnectOptions = {}, chosen?: ChosenSource): Promise<ToolStream<TcpConnectEvent>> {
  checkTcpFilters(NAME, { ...opts, remotePorts: opts.ports });
  if (opts.uid !== undefined && (!Number.isInteger(opts.uid) || opts.uid < 0)) throw new UsageError(NAME, `uid must be a non-negative integer, got ${opts.uid}`);
  const source = chosen ?? chooseSource(NAME, TCP_STATE_SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, taskFilterC(NAME, opts), k));
  if (opts.dns) attachToolProgram(NAME, b, attachDnsProbes);
  return eventStream<RawConnect, TcpConnectEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, pid: r.pid, uid: r.uid, comm: r.comm, ...endpoints(r), result: tcpStateName(r.newstate),
    ...(opts.dns && r.query_age_ns > 0n ? { query: r.query, queryAgeMs: Number(r.query_age_ns) / 1e6 } : {}),
  }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace TCP connects",
  json: "event",
  sources: TCP_STATE_SOURCES,
  options: [
    timeOption(undefined, "t"),
    pidOption(),
    { name: "port", short: "P", long: "port", kind: "value", parse: parsePortList, help: "comma-separated list of destination ports to trace." },
    ...familyOptions(),
    { name: "lport", short: "L", long: "lport", kind: "flag", help: "include LPORT on output" },
    printUidOption("include UID on output"),
    uidOption(),
    { name: "count", short: "c", long: "count", kind: "flag", help: "count connects per src ip and dest ip/port" },
    ...taskFilterOptions(),
    { name: "dns", short: "d", long: "dns", kind: "flag", help: "include likely DNS query associated with each connect" },
  ],
  examples: [
    ["tsbcc tcpconnect", "trace all TCP connect()s"],
    ["tsbcc tcpconnect -t", "include timestamps"],
    ["tsbcc tcpconnect -p 181", "only trace PID 181"],
    ["tsbcc tcpconnect -P 80", "only trace port 80"],
    ["tsbcc tcpconnect -P 80,81", "only trace port 80 and 81"],
    ["tsbcc tcpconnect -4", "only trace IPv4 family"],
    ["tsbcc tcpconnect -6", "only trace IPv6 family"],
    ["tsbcc tcpconnect -U", "include UID"],
    ["tsbcc tcpconnect -u 1000", "only trace UID 1000"],
    ["tsbcc tcpconnect -c", "count connects per src ip and dest ip/port"],
    ["tsbcc tcpconnect -L", "include LPORT while printing outputs"],
    ["tsbcc tcpconnect -d", "include DNS queries associated with connects"],
    ["tsbcc tcpconnect --cgroupmap mappath", "only trace cgroups in this BPF map"],
    ["tsbcc tcpconnect --mntnsmap mappath", "only trace mount namespaces in the map"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.count && o.dns) throw new UsageError(NAME, "argument -d/--dns: not allowed with argument -c/--count");
  const stream = await tcpconnect({
    pid: o.pid, uid: o.uid, ports: o.port, ipVersion: chosenFamily(NAME, o), dns: o.dns, signal: run.signal, ...taskFilterValues(o),
  }, run.source);
  if (o.count) return printCounts(stream, run);
  if (!run.json) {
    run.out.write((o.timestamp ? left("TIME(s)", 9) : "") + (o.printUid ? left("UID", 6) : "") +
      `${left("PID", 7)} ${left("COMM", 12)} ${left("IP", 2)} ${left("SADDR", 16)} ${o.lport ? `${left("LPORT", 6)} ` : ""}${left("DADDR", 16)} ` +
      (o.dns ? `${left("DPORT", 6)} QUERY\n` : "DPORT\n"));
  }
  let first: bigint | undefined;
  return printEvents(stream, run, (ev) => {
    first ??= ev.ts;
    return ((o.timestamp ? left((Number(ev.ts - first) / 1e9).toFixed(3), 9) : "") + (o.printUid ? left(ev.uid, 6) : "") +
      `${left(ev.pid, 7)} ${left(ev.comm.slice(0, 12), 12)} ${left(ev.ipVersion, 2)} ${left(ev.localAddr, 16)} ` +
      (o.lport ? `${left(ev.localPort, 6)} ` : "") + `${left(ev.remoteAddr, 16)} ` +
      (o.dns ? `${left(ev.remotePort, 6)} ${queryColumn(ev.remoteAddr, ev.query, ev.queryAgeMs)}\n` : `${ev.remotePort}\n`));
  });
}

/** -c: connects per (local address, remote address, remote port), printed when the stream ends. */
async function printCounts(stream: ToolStream<TcpConnectEvent>, run: ToolRun): Promise<number> {
  if (!run.json) run.out.write("Tracing connect ... Hit Ctrl-C to end\n");
  const counts = new Map<string, { laddr: string; raddr: string; rport: number; n: number }>();
  for await (const ev of stream) {
    const k = `${ev.localAddr} ${ev.remoteAddr} ${ev.remotePort}`;
    const c = counts.get(k) ?? { laddr: ev.localAddr, raddr: ev.remoteAddr, rport: ev.remotePort, n: 0 };
    c.n++;
    counts.set(k, c);
  }
  const rows = [...counts.values()].sort((a, b) => b.n - a.n);
  if (run.json) for (const r of rows) run.emit(r);
  else {
    run.out.write(`\n${left("LADDR", 25)} ${left("RADDR", 25)} ${left("RPORT", 20)} ${left("CONNECTS", 10)}\n`);
    for (const r of rows) run.out.write(`${left(r.laddr, 25)} ${left(r.raddr, 25)} ${left(r.rport, 20)} ${left(r.n, 10)}\n`);
  }
  return 0;
}

export const tool: CliTool = { spec, main };
