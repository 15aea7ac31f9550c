// tcpstates: one line per TCP state change, with the time spent in the previous state, from
// sock:inet_sock_set_state (state names from the tracepoint's own symbol table); with -Y each change is also an
// entry in the systemd journal, with BCC's fields (lib/journal.ts).
import { UsageError } from "./lib/errors.js";
import { clock, left } from "./lib/format.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import {
  ADDR_FIELDS, COPY_ADDRS, TCP_DEFINES, familyNumber, chosenFamily, familyOptions, endpoints, portOptions, stateChangePrologue, tcpStateDefines, tcpStateName, timeOptions, type TcpEndpoints,
} from "./lib/tcp.js";
import { TCP_STATE_SOURCES, checkTcpFilters } from "./tcplife.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { journaled, JournalWriter, type JournalFields } from "./lib/journal.js";

const NAME = "tcpstates";

export interface TcpStateEvent extends TcpEndpoints {
  ts: bigint;
  /** The socket's kernel address (identifies the session). */
  skaddr: bigint;
  /** The process in whose context the change happened. */
  pid: number;
  comm: string;
  oldState: string;
  newState: string;
  /** Time in the old state, milliseconds (0 for the first change seen). */
  durationMs: number;
}

export interface TcpstatesOptions extends StreamOptions {
  localPorts?: number[];
  remotePorts?: number[];
  ipVersion?: 4 | 6;
  /** Also log each change to the systemd journal (BCC's -Y); a string is the journal socket's path. */
  journal?: boolean | string;
}

function program(o: TcpstatesOptions): string {
  return `
${TCP_DEFINES}
#define FILTER_FAMILY ${familyNumber(o.ipVersion)}
${tcpStateDefines()}

struct state_event_t {
    u64 ts;
    u64 skaddr;
    u64 delta_ns;
    u32 pid;
    int oldstate;
    int newstate;
    ${ADDR_FIELDS}
    char comm[TASK_COMM_LEN];
};

BPF_HASH(last, u64, u64, 10240);
BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(sock, inet_sock_set_state) {
${stateChangePrologue(o)}
    struct state_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    u64 *prev = last.lookup(&sk);
    ev.delta_ns = prev ? ev.ts - *prev : 0;
    ev.skaddr = sk;
    ev.pid = bpf_get_current_pid_tgid() >> 32;
    ev.oldstate = args->oldstate;
    ev.newstate = args->newstate;
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    ${COPY_ADDRS("(&ev)")}
    if (args->newstate == TCPS_CLOSE) last.delete(&sk);
    else last.update(&sk, &ev.ts);
    events.perf_submit(args, &ev, sizeof(ev));
    return 0;
}
`;
}

interface RawState {
  ts: bigint; skaddr: bigint; delta_ns: bigint; pid: number; oldstate: number; newstate: number; comm: string;
  saddr: Uint8Array; daddr: Uint8Array; sport: number; dport: number; family: number;
}

/** tcpstates as a library: one TcpStateEvent per TCP state change. */
export async function tcpstates(opts: TcpstatesOptions = {}, chosen?: ChosenSource): Promise<ToolStream<TcpStateEvent>> {
  checkTcpFilters(NAME, opts);
  const source = chosen ?? chooseSource(NAME, TCP_STATE_SOURCES, opts.source);
  const journal = opts.journal ? new JournalWriter(typeof opts.journal === "string" ? opts.journal : undefined) : undefined;
  let b;
  try {
    b = await loadToolProgram(NAME, program(opts));
  } catch (e) {
    journal?.close();
    throw e;
  }
  const stream = eventStream<RawState, TcpStateEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, skaddr: BigInt(r.skaddr), pid: r.pid, comm: r.comm, ...endpoints(r), oldState: tcpStateName(r.oldstate), newState: tcpStateName(r.newstate), durationMs: Number(r.delta_ns) / 1e6,
  }));
  return journal ? journaled(stream, journal, journalFields) : stream;
}

/** BCC's journal entry for a state change (journald adds OBJECT_COMM itself from OBJECT_PID when we are root). */
export function journalFields(ev: TcpStateEvent): JournalFields {
  const ip = ev.ipVersion === 6 ? "IPV6" : "IPV4";
  const fields: JournalFields = {
    SYSLOG_IDENTIFIER: NAME,
    PRIORITY: 5,
    _SOURCE_REALTIME_TIMESTAMP: BigInt(Date.now()) * 1000n,
    OBJECT_PID: ev.pid,
    [`OBJECT_${ip}_SOURCE_ADDRESS`]: ev.localAddr,
    OBJECT_TCP_SOURCE_PORT: ev.localPort,
    [`OBJECT_${ip}_DESTINATION_ADDRESS`]: ev.remoteAddr,
    OBJECT_TCP_DESTINATION_PORT: ev.remotePort,
    OBJECT_TCP_OLD_STATE: ev.oldState,
    OBJECT_TCP_NEW_STATE: ev.newState,
    OBJECT_TCP_SPAN_TIME: Math.round(ev.durationMs * 1000),
    MESSAGE: `${ev.comm} ${ev.localAddr} ${ev.localPort} \u2192 ${ev.remoteAddr} ${ev.remotePort} ${ev.oldState} \u2192 ${ev.newState}`,
  };
  if (process.getuid?.() !== 0) fields.OBJECT_COMM = ev.comm;
  return fields;
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace TCP session state changes and durations",
  json: "event",
  sources: TCP_STATE_SOURCES,
  options: [
    ...timeOptions(), ...portOptions(),
    { name: "journal", short: "Y", long: "journal", kind: "flag", help: "log session state changes to the systemd journal" },
    ...familyOptions(),
  ],
  examples: [
    ["tsbcc tcpstates", "trace all TCP state changes"],
    ["tsbcc tcpstates -t", "include timestamp column"],
    ["tsbcc tcpstates -T", "include time column (HH:MM:SS)"],
    ["tsbcc tcpstates -w", "wider columns (fit IPv6)"],
    ["tsbcc tcpstates -stT", "csv output, with times & timestamps"],
    ["tsbcc tcpstates -Y", "log events to the systemd journal"],
    ["tsbcc tcpstates -L 80", "only trace local port 80"],
    ["tsbcc tcpstates -L 80,81", "only trace local ports 80 and 81"],
    ["tsbcc tcpstates -D 80", "only trace remote port 80"],
    ["tsbcc tcpstates -4", "trace IPv4 family only"],
    ["tsbcc tcpstates -6", "trace IPv6 family only"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await tcpstates({ localPorts: o.localport, remotePorts: o.remoteport, ipVersion: chosenFamily(NAME, o), journal: o.journal, signal: run.signal }, run.source);
  const addrWidth = o.wide ? 39 : 15;
  if (!run.json) {
    const cols = ["SKADDR", "C-PID", "C-COMM", ...(o.wide ? ["IP"] : []), "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE", "MS"];
    if (o.csv) run.out.write([...(o.time ? ["TIME"] : []), ...(o.timestamp ? ["TIME(s)"] : []), ...cols].join(",") + "\n");
    else {
      run.out.write((o.time ? left("TIME", 8) + " " : "") + (o.timestamp ? left("TIME(s)", 9) + " " : "") +
        `${left("SKADDR", 16)} ${left("C-PID", 5)} ${left("C-COMM", 10)} ${o.wide ? left("IP", 2) + " " : ""}${left("LADDR", addrWidth)} ${left("LPORT", 5)} ` +
        `${left("RADDR", addrWidth)} ${left("RPORT", 5)} ${left("OLDSTATE", 11)} -> ${left("NEWSTATE", 11)} MS\n`);
    }
  }
  let first: bigint | undefined;
  return printEvents(stream, run, (ev) => {
    first ??= ev.ts;
    const stamp = (Number(ev.ts - first) / 1e9).toFixed(6);
    if (o.csv) {
      return ([...(o.time ? [clock()] : []), ...(o.timestamp ? [stamp] : []), ev.skaddr.toString(16), ev.pid, ev.comm, ...(o.wide ? [ev.ipVersion] : []),
        ev.localAddr, ev.localPort, ev.remoteAddr, ev.remotePort, ev.oldState, ev.newState, ev.durationMs.toFixed(3)].join(",") + "\n");
    }
    return ((o.time ? left(clock(), 8) + " " : "") + (o.timestamp ? left(stamp, 9) + " " : "") +
      `${left(ev.skaddr.toString(16), 16)} ${left(ev.pid, 5)} ${left(ev.comm.slice(0, 10), 10)} ${o.wide ? left(ev.ipVersion, 2) + " " : ""}${left(ev.localAddr, addrWidth)} ` +
      `${left(ev.localPort, 5)} ${left(ev.remoteAddr, addrWidth)} ${left(ev.remotePort, 5)} ${left(ev.oldState, 11)} -> ${left(ev.newState, 11)} ${ev.durationMs.toFixed(3)}\n`);
  }, (ev) => ({ ...ev, skaddr: `0x${ev.skaddr.toString(16)}` }));
}

export const tool: CliTool = { spec, main };
