// tcpretrans: one line per TCP retransmission (addresses, ports, state), or with -c counts per flow, from the
// tcp:tcp_retransmit_skb tracepoint. Tail loss probes (-l) are not a tracepoint: they need kprobes.
import { UsageError } from "./lib/errors.js";
import { clock, left } from "./lib/format.js";
import { chooseSource, type ChosenSource } from "./lib/source.js";
import { eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { ADDR_FIELDS, COPY_ADDRS, TCP_DEFINES, familyNumber, chosenFamily, familyOptions, endpoints, tcpStateName, type TcpEndpoints } from "./lib/tcp.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";
import { ErrorCode, TsbccError } from "../errors.js";

const NAME = "tcpretrans";

export interface RetransmitEvent extends TcpEndpoints {
  ts: bigint;
  /** The process current when the retransmit happened (often 0: timers run in softirq). */
  pid: number;
  state: string;
  /** "R" retransmit ("L" tail loss probe, with kprobes). */
  type: "R" | "L";
}

export interface TcpretransOptions extends StreamOptions {
  ipVersion?: 4 | 6;
}

const SOURCES = [{ kind: "tracepoint", targets: ["tcp:tcp_retransmit_skb"] }] as const;

function program(o: TcpretransOptions): string {
  return `
${TCP_DEFINES}
#define FILTER_FAMILY ${familyNumber(o.ipVersion)}

struct retrans_event_t {
    u64 ts;
    u32 pid;
    int state;
    ${ADDR_FIELDS}
};

BPF_PERF_OUTPUT(events);

TRACEPOINT_PROBE(tcp, tcp_retransmit_skb) {
    if (FILTER_FAMILY && args->family != FILTER_FAMILY) return 0;
    struct retrans_event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.pid = bpf_get_current_pid_tgid() >> 32;
    ev.state = args->state;
    ${COPY_ADDRS("(&ev)")}
    events.perf_submit(args, &ev, sizeof(ev));
    return 0;
}
`;
}

interface RawRetrans { ts: bigint; pid: number; state: number; saddr: Uint8Array; daddr: Uint8Array; sport: number; dport: number; family: number }

/** tcpretrans as a library: one RetransmitEvent per retransmitted segment. */
export async function tcpretrans(opts: TcpretransOptions = {}, chosen?: ChosenSource): Promise<ToolStream<RetransmitEvent>> {
  if (opts.ipVersion !== undefined && opts.ipVersion !== 4 && opts.ipVersion !== 6) throw new UsageError(NAME, `ipVersion must be 4 or 6, got ${opts.ipVersion}`);
  const source = chosen ?? chooseSource(NAME, SOURCES, opts.source);
  const b = await loadToolProgram(NAME, program(opts));
  return eventStream<RawRetrans, RetransmitEvent>(b, "events", source, opts, (r) => ({
    ts: r.ts, pid: r.pid, ...endpoints(r), state: tcpStateName(r.state), type: "R",
  }));
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Trace TCP retransmits",
  json: "event",
  sources: SOURCES,
  options: [
    { name: "lossprobe", short: "l", long: "lossprobe", kind: "flag", help: "include tail loss probe attempts (needs kprobes)" },
    { name: "count", short: "c", long: "count", kind: "flag", help: "count occurred retransmits per flow" },
    ...familyOptions(),
  ],
  examples: [
    ["tsbcc tcpretrans", "trace TCP retransmits"],
    ["tsbcc tcpretrans -c", "count retransmits per flow, printed at Ctrl-C"],
    ["tsbcc tcpretrans -4", "trace IPv4 family only"],
    ["tsbcc tcpretrans -6", "trace IPv6 family only"],
  ],
};

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.lossprobe) throw new TsbccError(ErrorCode.UNSUPPORTED, "tail loss probes (-l) are seen only through a kprobe on tcp_send_loss_probe, and this tool's kprobe source is not built yet");
  const stream = await tcpretrans({ ipVersion: chosenFamily(NAME, o), signal: run.signal }, run.source);
  const flow = (ev: RetransmitEvent): [string, string] => [`${ev.localAddr}:${ev.localPort}`, `${ev.remoteAddr}:${ev.remotePort}`];
  if (o.count) {
    if (!run.json) run.out.write("Tracing retransmits ... Hit Ctrl-C to end\n");
    const counts = new Map<string, { local: string; remote: string; n: number }>();
    for await (const ev of stream) {
      const [local, remote] = flow(ev);
      const c = counts.get(`${local} ${remote}`) ?? { local, remote, n: 0 };
      c.n++;
      counts.set(`${local} ${remote}`, c);
    }
    if (run.json) for (const c of counts.values()) run.emit({ local: c.local, remote: c.remote, retransmits: c.n });
    else {
      run.out.write(`\n${left("LADDR:LPORT", 20)} ${left("RADDR:RPORT", 20)} RETRANSMITS\n`);
      for (const c of [...counts.values()].sort((a, b) => b.n - a.n)) run.out.write(`${left(c.local, 20)} ${left(c.remote, 20)} ${c.n}\n`);
    }
    return 0;
  }
  if (!run.json) {
    run.out.write("Tracing retransmits ... Hit Ctrl-C to end\n");
    run.out.write(`${left("TIME", 8)} ${left("PID", 6)} ${left("IP", 2)} ${left("LADDR:LPORT", 20)} T> ${left("RADDR:RPORT", 20)} STATE\n`);
  }
  return printEvents(stream, run, (ev) => {
    const [local, remote] = flow(ev);
    return `${left(clock(), 8)} ${left(ev.pid, 6)} ${left(ev.ipVersion, 2)} ${left(local, 20)} ${ev.type}> ${left(remote, 20)} ${ev.state}\n`;
  });
}

export const tool: CliTool = { spec, main };
