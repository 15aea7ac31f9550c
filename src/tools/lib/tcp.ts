// What the TCP tools share: TCP state numbers and names and address families as sock:inet_sock_set_state itself
// declares them (its format's symbol tables, so nothing is hard-coded), the C that copies a state change's
// addresses into an event, address formatting, and BCC's port-list and family options.
import { AddressFamily, IpProto } from "../../sys/abi.js";
import type { OptionSpec } from "./args.js";
import { UsageError } from "./errors.js";
import { symbolicNames } from "./tracepoint-symbols.js";
import { ErrorCode, TsbccError } from "../../errors.js";
import { timeOption } from "./options.js";

let stateNames: Map<number, string> | undefined;

/** TCP state number -> name without the "TCP_" prefix ("ESTABLISHED", "SYN_SENT", ...); read once (names are per event). */
export function tcpStateNames(): Map<number, string> {
  if (stateNames) return stateNames;
  const out = new Map<number, string>();
  for (const [n, name] of symbolicNames("sock", "inet_sock_set_state", "newstate")) out.set(n, name.replace(/^TCP_/, ""));
  // An empty table (no tracefs yet) is not kept: a later call reads again.
  if (out.size > 0) stateNames = out;
  return out;
}

/** `#define TCPS_<NAME> <n>` for every state, for the tools' C. */
export function tcpStateDefines(): string {
  return [...tcpStateNames()].map(([n, name]) => `#define TCPS_${name} ${n}`).join("\n");
}

export function tcpStateName(n: number): string {
  return tcpStateNames().get(n) ?? `UNKNOWN(${n})`;
}

export const TCP_DEFINES = `
#define AF_INET_NR ${AddressFamily.AF_INET}
#define AF_INET6_NR ${AddressFamily.AF_INET6}
#define IPPROTO_TCP_NR ${IpProto.IPPROTO_TCP}
`;

/** The event fields for an address pair (16 bytes each; IPv4 in the first 4). */
export const ADDR_FIELDS = `
    u8 saddr[16];
    u8 daddr[16];
    u16 sport;
    u16 dport;
    u16 family;
    u16 pad16;
`;

/** C copying a sock:inet_sock_set_state record's addresses and ports into `dst` (a pointer to an event). */
export const COPY_ADDRS = (dst: string): string => `
    ${dst}->family = args->family;
    ${dst}->sport = args->sport;
    ${dst}->dport = args->dport;
    if (args->family == AF_INET_NR) {
        bpf_probe_read_kernel(&${dst}->saddr, 4, args->saddr);
        bpf_probe_read_kernel(&${dst}->daddr, 4, args->daddr);
    } else {
        bpf_probe_read_kernel(&${dst}->saddr, 16, args->saddr_v6);
        bpf_probe_read_kernel(&${dst}->daddr, 16, args->daddr_v6);
    }`;

/**
 * The opening of a sock:inet_sock_set_state handler: TCP only, the family and port filters; leaves `sk` (the
 * socket's address, the session's key) in scope.
 */
export function stateChangePrologue(o: { localPorts?: readonly number[]; remotePorts?: readonly number[] }): string {
  return `
    if (args->protocol != IPPROTO_TCP_NR) return 0;
    if (FILTER_FAMILY && args->family != FILTER_FAMILY) return 0;
    u16 lport = args->sport, rport = args->dport;
    if (!${portCondition("lport", o.localPorts)}) return 0;
    if (!${portCondition("rport", o.remotePorts)}) return 0;
    u64 sk = (u64)args->skaddr;`;
}

/** BCC's mutually exclusive -4/-6, as an IP version (undefined: both). */
export function chosenFamily(tool: string, o: { ipv4?: boolean; ipv6?: boolean }): 4 | 6 | undefined {
  if (o.ipv4 && o.ipv6) throw new UsageError(tool, "argument -6/--ipv6: not allowed with argument -4/--ipv4");
  return o.ipv4 ? 4 : o.ipv6 ? 6 : undefined;
}

/** An address from the event's 16 bytes: dotted IPv4, or compressed IPv6. */
export function formatAddr(family: number, bytes: ArrayLike<number> | string): string {
  const b = typeof bytes === "string" ? [...Buffer.from(bytes, "latin1")] : Array.from(bytes);
  if (family === AddressFamily.AF_INET) return b.slice(0, 4).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  // Compress the longest run of zero groups (two or more) to "::".
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** The raw endpoint fields of a TCP tool's event (see ADDR_FIELDS) as the typed events carry them. */
/** A TCP event's two ends, as the TCP tools' events carry them (addresses as text). */
export interface TcpEndpoints {
  ipVersion: 4 | 6;
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
}

export function endpoints(r: { family: number; saddr: Uint8Array; daddr: Uint8Array; sport: number; dport: number }): TcpEndpoints {
  return {
    ipVersion: ipVersion(r.family), localAddr: formatAddr(r.family, r.saddr), localPort: r.sport,
    remoteAddr: formatAddr(r.family, r.daddr), remotePort: r.dport,
  };
}

export function ipVersion(family: number): 4 | 6 {
  return family === AddressFamily.AF_INET6 ? 6 : 4;
}

export function familyNumber(v: 4 | 6 | undefined): number {
  return v === 6 ? AddressFamily.AF_INET6 : v === 4 ? AddressFamily.AF_INET : 0;
}

export function parsePortList(s: string): number[] {
  const ports = s.split(",").map((p) => Number(p.trim()));
  if (ports.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) throw new TsbccError(ErrorCode.USAGE, `invalid port list '${s}'`);
  return ports;
}

/** C condition true when `port` is in `ports` (true when the list is empty). */
export function portCondition(port: string, ports: readonly number[] | undefined): string {
  return ports && ports.length ? `(${ports.map((p) => `${port} == ${p}`).join(" || ")})` : "1";
}

export const familyOptions = (): OptionSpec[] => [
  { name: "ipv4", short: "4", long: "ipv4", kind: "flag", help: "trace IPv4 family only" },
  { name: "ipv6", short: "6", long: "ipv6", kind: "flag", help: "trace IPv6 family only" },
];
export const portOptions = (): OptionSpec[] => [
  { name: "localport", short: "L", long: "localport", kind: "value", parse: parsePortList, help: "comma-separated list of local ports to trace." },
  { name: "remoteport", short: "D", long: "remoteport", kind: "value", parse: parsePortList, help: "comma-separated list of remote ports to trace." },
];
export const timeOptions = (): OptionSpec[] => [
  { name: "time", short: "T", long: "time", kind: "flag", help: "include time column on output (HH:MM:SS)" },
  timeOption("include timestamp on output (seconds)", "t"),
  { name: "wide", short: "w", long: "wide", kind: "flag", help: "wide column output (fits IPv6 addresses)" },
  { name: "csv", short: "s", long: "csv", kind: "flag", help: "comma separated values output" },
];
