// tcplife: one line per TCP session when it closes: process, addresses, ports, bytes sent (acked) and received,
// and its lifespan, from sock:inet_sock_set_state; the byte counts come from the socket's struct tcp_sock (BTF).
import { UsageError } from "./lib/errors.js";
import { clock, left, right } from "./lib/format.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import {
  ADDR_FIELDS, COPY_ADDRS, TCP_DEFINES, familyNumber, chosenFamily, familyOptions, endpoints, portOptions, stateChangePrologue,
  tcpStateDefines, timeOptions, type TcpEndpoints,
} from "./lib/tcp.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { pidOption } from "./lib/options.js";
import type { ToolConstants } from "./lib/constants.js";

const NAME = "tcplife";

export interface TcpSessionEvent extends TcpEndpoints {
  ts: bigint;
  pid: number;
  comm: string;
  /** Bytes the peer acknowledged (sent) and bytes received, from struct tcp_sock. */
  txBytes: number;
  rxBytes: number;
  /** Lifespan, milliseconds (first state change to close). */
  durationMs: number;
}

export interface TcplifeOptions extends StreamOptions {
  pid?: number;
  localPorts?: number[];
  remotePorts?: number[];
  ipVersion?: 4 | 6;
}

export const TCP_STATE_SOURCES = [{ kind: "tracepoint", targets: ["sock:inet_sock_set_state"] }] as const;

function program(o: TcplifeOptions, k: ToolConstants): string {
  return `
#include <net/sock.h>
#include <linux/tcp.h>
${TCP_DEFINES}
${tcpStateDefines()}
${k.u32("FILTER_PID", o.pid ?? 0)}
#define FILTER_FAMILY ${familyNumber(o.ipVersion)}

struct who_t {
    u32 pid;
    char comm[TASK_COMM_LEN];
};

struct life_event_t {
    u64 ts;
    u64 span_ns;
    u64 rx_b;
    u64 tx_b;
    u32 pid;
    ${ADDR_FIELDS}
    char comm[TASK_COMM_LEN];
};

BPF_HASH(birth, u64, u64, 10240);
BPF_HASH(whoami, u64, struct who_t, 10240);
BPF_PERCPU_ARRAY(scratch, struct life_event_t, 1);
BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(sock, inet_sock_set_state) {
${stateChangePrologue(o)}
    int state = args->newstate;
    if (state < TCPS_FIN_WAIT1 && !birth.lookup(&sk)) {
        u64 ts = bpf_ktime_get_ns();
        birth.update(&sk, &ts);
    }
    if (state == TCPS_SYN_SENT || state == TCPS_LAST_ACK) {
        struct who_t who = {};
        who.pid = bpf_get_current_pid_tgid() >> 32;
        bpf_get_current_comm(&who.comm, sizeof(who.comm));
        whoami.update(&sk, &who);
    }
    if (state != TCPS_CLOSE) return 0;
    u64 *born = birth.lookup(&sk);
    if (!born) {
        whoami.delete(&sk);
        return 0;
    }
    int zero = 0;
    struct life_event_t *ev = scratch.lookup(&zero);
    if (!ev) return 0;
    ev->ts = bpf_ktime_get_ns();
    ev->span_ns = ev->ts - *born;
    birth.delete(&sk);
    struct who_t *w = whoami.lookup(&sk);
    if (w) {
        ev->pid = w->pid;
        __builtin_memcpy(&ev->comm, w->comm, sizeof(ev->comm));
        whoami.delete(&sk);
    } else {
        ev->pid = bpf_get_current_pid_tgid() >> 32;
        bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
    }
    if (FILTER_PID && ev->pid != FILTER_PID) return 0;
    struct tcp_sock *tp = (struct tcp_sock *)args->skaddr;
    ev->rx_b = tp->bytes_received;
    ev->tx_b = tp->bytes_acked;
    ${COPY_ADDRS("ev")}
    events.perf_submit(args, ev, sizeof(*ev));
    return 0;
}
`;
}

interface RawLife {
  ts: bigint; span_ns: bigint; rx_b: bigint; tx_b: bigint; pid: number; comm: string;
  saddr: Uint8Array; daddr: Uint8Array; sport: number; dport: number; family: number;
}

export function checkTcpFilters(tool: string, o: { pid?: number; ipVersion?: number; localPorts?: number[]; remotePorts?: number[] }): void {
  if (o.pid !== undefined && (!Number.isInteger(o.pid) || o.pid < 0)) throw new UsageError(tool, `pid must be a non-negative integer, got ${o.pid}`);
  if (o.ipVersion !== undefined && o.ipVersion !== 4 && o.ipVersion !== 6) throw new UsageError(tool, `ipVersion must be 4 or 6, got ${o.ipVersion}`);
  for (const p of [...(o.localPorts ?? []), ...(o.remotePorts ?? [])]) {
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new UsageError(tool, `ports must be integers 0..65535, got ${p}`);
  }
}

/** tcplife as a library: one TcpSessionEvent per closed TCP session. */
export async function tcplife(opts: TcplifeOptions = {}, chosen?: ChosenSource): Promise<ToolStream<TcpSessionEvent>> {
  checkTcpFilters(NAME, opts);
  const source = chosen ?? chooseSource(NAME, TCP_STATE_SOURCES, opts.source);
  const b = await loadToolProgram(NAME, (k) => program(opts, k));
  return eventStream<RawLife, TcpSessionEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, pid: r.pid, comm: r.comm, ...endpoints(r), txBytes: Number(r.tx_b), rxBytes: Number(r.rx_b), durationMs: Number(r.span_ns) / 1e6,
  }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace the lifespan of TCP sessions and summarize",
  json: "event",
  sources: TCP_STATE_SOURCES,
  options: [
    ...timeOptions(),
    pidOption(),
    ...portOptions(),
    ...familyOptions(),
  ],
  examples: [
    ["tsbcc tcplife", "trace all TCP connect()s"],
    ["tsbcc tcplife -T", "include time column (HH:MM:SS)"],
    ["tsbcc tcplife -w", "wider columns (fit IPv6)"],
    ["tsbcc tcplife -stT", "csv output, with times & timestamps"],
    ["tsbcc tcplife -p 181", "only trace PID 181"],
    ["tsbcc tcplife -L 80", "only trace local port 80"],
    ["tsbcc tcplife -L 80,81", "only trace local ports 80 and 81"],
    ["tsbcc tcplife -D 80", "only trace remote port 80"],
    ["tsbcc tcplife -4", "only trace IPv4 family"],
    ["tsbcc tcplife -6", "only trace IPv6 family"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await tcplife({
    pid: o.pid, localPorts: o.localport, remotePorts: o.remoteport, ipVersion: chosenFamily(NAME, o), signal: run.signal,
  }, run.source);
  const cols = ["PID", "COMM", ...(o.wide ? ["IP"] : []), "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB", "MS"];
  const pre = (time: string, stamp: string): string[] => [...(o.time ? [time] : []), ...(o.timestamp ? [stamp] : [])];
  if (!run.json) {
    if (o.csv) run.out.write([...pre("TIME", "TIME(s)"), ...cols].join(",") + "\n");
    else {
      const head = o.time ? left("TIME", 8) + " " : "";
      const stampHead = o.timestamp ? left("TIME(s)", 9) + " " : "";
      run.out.write(head + stampHead + (o.wide
        ? `${left("PID", 5)} ${left("COMM", 16)} ${left("IP", 2)} ${left("LADDR", 26)} ${left("LPORT", 5)} ${left("RADDR", 26)} ${left("RPORT", 5)} ${right("TX_KB", 6)} ${right("RX_KB", 6)} MS\n`
        : `${left("PID", 5)} ${left("COMM", 10)} ${left("LADDR", 15)} ${left("LPORT", 5)} ${left("RADDR", 15)} ${left("RPORT", 5)} ${right("TX_KB", 5)} ${right("RX_KB", 5)} MS\n`));
    }
  }
  let first: bigint | undefined;
  return printEvents(stream, run, (ev) => {
    first ??= ev.ts;
    const stamp = (Number(ev.ts - first) / 1e9).toFixed(6);
    const tx = Math.trunc(ev.txBytes / 1024), rx = Math.trunc(ev.rxBytes / 1024), ms = ev.durationMs.toFixed(2);
    if (o.csv) {
      return ([...pre(clock(), stamp), ev.pid, ev.comm, ...(o.wide ? [ev.ipVersion] : []), ev.localAddr, ev.localPort, ev.remoteAddr, ev.remotePort, tx, rx, ms].join(",") + "\n");
    }
    const head = (o.time ? left(clock(), 8) + " " : "") + (o.timestamp ? left(stamp, 9) + " " : "");
    return (head + (o.wide
      ? `${left(ev.pid, 5)} ${left(ev.comm.slice(0, 16), 16)} ${left(ev.ipVersion, 2)} ${left(ev.localAddr, 26)} ${left(ev.localPort, 5)} ${left(ev.remoteAddr, 26)} ${left(ev.remotePort, 5)} ${right(tx, 6)} ${right(rx, 6)} ${ms}\n`
      : `${left(ev.pid, 5)} ${left(ev.comm.slice(0, 10), 10)} ${left(ev.localAddr, 15)} ${left(ev.localPort, 5)} ${left(ev.remoteAddr, 15)} ${left(ev.remotePort, 5)} ${right(tx, 5)} ${right(rx, 5)} ${ms}\n`));
  });
}

export const tool: CliTool = { spec, main };
