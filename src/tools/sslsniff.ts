// sslsniff: the plaintext of TLS traffic, captured where a program hands it to its TLS library or gets it back:
// uprobes on OpenSSL (libssl, or a program's own executable when it links OpenSSL statically, as node does), GnuTLS
// and NSS (lib/tls-libraries.ts), and on extra binaries given with --extra-lib. -l adds each call's latency and
// --handshake times OpenSSL's SSL_do_handshake as well. -d prints the BPF program before it runs (on stderr, as
// funccount -D does here), --ebpf prints it and exits.
import { UsageError } from "./lib/errors.js";
import { left } from "./lib/format.js";
import { uidOption } from "./lib/options.js";
import type { ChosenSource } from "./lib/source.js";
import { attachToolProgram, eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { findTlsLibraries, type TlsKind, type TlsLibrary } from "./lib/tls-libraries.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";

const NAME = "sslsniff";
const MAX_BUF = 8192;

export interface SslsniffOptions extends Omit<StreamOptions, "source"> {
  pid?: number;
  uid?: number;
  /** Only this command name. */
  comm?: string;
  /** Skip the system libssl (a pid's own statically linked OpenSSL is still probed). */
  noOpenssl?: boolean;
  /** Skip libgnutls. */
  noGnutls?: boolean;
  /** Skip NSS (libnspr4). */
  noNss?: boolean;
  /** More binaries with a TLS library inside: "openssl:PATH", "gnutls:PATH", "nss:PATH" (a bare PATH is OpenSSL). */
  extraLibs?: string[];
  /** Bytes of data kept per call (default and maximum 8192). */
  maxBufferSize?: number;
  /** Also report OpenSSL handshakes (SSL_do_handshake) with their latency. */
  handshake?: boolean;
}

export interface SslEvent {
  function: "READ/RECV" | "WRITE/SEND" | "HANDSHAKE";
  /** Seconds since the first event. */
  timeS: number;
  pid: number;
  tid: number;
  uid: number;
  comm: string;
  /** Bytes the call moved (the handshake's return value for HANDSHAKE). */
  length: number;
  /** The plaintext (up to maxBufferSize bytes), as latin1 text ("" for HANDSHAKE). */
  data: string;
  truncated: boolean;
  /** How long the call took, in milliseconds. */
  latencyMs: number;
  /** The binary whose function it was, and its library kind. */
  binary: string;
  library: TlsKind;
}

const RW = ["READ/RECV", "WRITE/SEND", "HANDSHAKE"] as const;

function program(o: SslsniffOptions, libs: readonly TlsLibrary[]): string {
  const size = o.maxBufferSize ?? MAX_BUF;
  const probes = (i: number, fn: string, rw: number, buf: string): string => `
int ${fn}_enter_${i}(struct pt_regs *ctx) {
    if (!wanted()) return 0;
    u64 id = bpf_get_current_pid_tgid();
    struct call_t c = {};
    c.buf = ${buf};
    c.ts = bpf_ktime_get_ns();
    ${fn}_calls.update(&id, &c);
    return 0;
}
// On return, with what the call moved: an SSL_write made before the handshake is done fails and is retried.
int ${fn}_return_${i}(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    struct call_t *c = ${fn}_calls.lookup(&id);
    if (!c) return 0;
    struct call_t call = *c;
    ${fn}_calls.delete(&id);
    return emit(ctx, &call, (int)PT_REGS_RC(ctx), ${rw}, ${i});
}`;
  return `
struct ssl_event_t {
    u64 ts;
    u64 delta_ns;
    u32 pid;
    u32 tid;
    u32 uid;
    u32 len;
    u32 rw;
    u32 bin;
    char comm[TASK_COMM_LEN];
    char data[${MAX_BUF}];
};
struct call_t {
    u64 buf;
    u64 ts;
};
BPF_PERCPU_ARRAY(scratch, struct ssl_event_t, 1);
BPF_HASH(read_calls, u64, struct call_t, 10240);
BPF_HASH(write_calls, u64, struct call_t, 10240);
BPF_HASH(handshake_calls, u64, struct call_t, 10240);
BPF_PERF_OUTPUT(events);

static int wanted(void) {
    u64 id = bpf_get_current_pid_tgid();
    if (${o.pid ?? -1} >= 0 && (id >> 32) != ${o.pid ?? 0}) return 0;
    if (${o.uid ?? -1} >= 0 && (u32)bpf_get_current_uid_gid() != ${o.uid ?? 0}) return 0;
    ${o.comm ? `char comm[TASK_COMM_LEN] = {}; bpf_get_current_comm(&comm, sizeof(comm)); const char want[] = ${JSON.stringify(o.comm.slice(0, 15))};
    for (int i = 0; i < sizeof(want); i++) if (comm[i] != want[i]) return 0;` : ""}
    return 1;
}

static int emit(struct pt_regs *ctx, struct call_t *call, int len, u32 rw, u32 bin) {
    if (len <= 0 || (rw != 2 && !call->buf)) return 0;
    int zero = 0;
    struct ssl_event_t *ev = scratch.lookup(&zero);
    if (!ev) return 0;
    u64 id = bpf_get_current_pid_tgid();
    ev->ts = bpf_ktime_get_ns();
    ev->delta_ns = ev->ts - call->ts;
    ev->pid = id >> 32;
    ev->tid = (u32)id;
    ev->uid = (u32)bpf_get_current_uid_gid();
    ev->len = len;
    ev->rw = rw;
    ev->bin = bin;
    bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
    // A handshake has no data (the record is sent whole: events decode full records).
    if (rw == 2) {
        events.perf_submit(ctx, ev, sizeof(*ev));
        return 0;
    }
    u32 n = len;
    if (n > ${size}) n = ${size};
    // (n - 1) & (MAX - 1) + 1 keeps n (1..MAX) and shows the verifier the bounds.
    bpf_probe_read_user(&ev->data, ((n - 1) & ${MAX_BUF - 1}) + 1, (void *)call->buf);
    events.perf_submit(ctx, ev, sizeof(*ev));
    return 0;
}
${libs.map((lib, i) => probes(i, "write", 1, "PT_REGS_PARM2(ctx)") + probes(i, "read", 0, "PT_REGS_PARM2(ctx)") +
  (o.handshake && lib.handshake ? probes(i, "handshake", 2, "0") : "")).join("\n")}
`;
}

function check(o: SslsniffOptions): number {
  for (const k of ["pid", "uid"] as const) {
    if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) throw new UsageError(NAME, `${k} must be a non-negative integer, got ${o[k]}`);
  }
  const size = o.maxBufferSize ?? MAX_BUF;
  if (!Number.isInteger(size) || size < 1 || size > MAX_BUF) throw new UsageError(NAME, `maxBufferSize must be 1..${MAX_BUF}, got ${size}`);
  return size;
}

interface RawSsl { ts: bigint; delta_ns: bigint; pid: number; tid: number; uid: number; len: number; rw: number; bin: number; comm: string; data: Uint8Array | number[] | string }

interface Plan { size: number; libs: TlsLibrary[]; text: string }

function plan(opts: SslsniffOptions): Plan {
  const size = check(opts);
  const libs = findTlsLibraries(NAME, opts);
  if (libs.length === 0) {
    throw new UsageError(NAME, "no TLS library found to probe (no libssl, libgnutls or libnspr4; give -p PID of a program with OpenSSL inside, or --extra-lib KIND:PATH)");
  }
  return { size, libs, text: program(opts, libs) };
}

/** The BPF C program sslsniff would load for `opts` (BCC's -d/--ebpf output): one probe pair per binary and function. */
export function sslsniffProgram(opts: SslsniffOptions = {}): string {
  return plan(opts).text;
}

/** sslsniff as a library: one SslEvent per read/write call that moved data (and per handshake with `handshake`). */
export async function sslsniff(opts: SslsniffOptions = {}): Promise<ToolStream<SslEvent>> {
  const { size, libs, text } = plan(opts);
  const fns = (l: TlsLibrary): string[] => [...l.write, ...l.read, ...(opts.handshake && l.handshake ? [l.handshake] : [])];
  const source: ChosenSource = { kind: "uprobe", targets: libs.flatMap((l) => fns(l).map((f) => `${l.path}:${f}`)), forced: false };
  const b = await loadToolProgram(NAME, text);
  attachToolProgram(NAME, b, (x) => libs.forEach((lib, i) => {
    const pid = opts.pid !== undefined ? { pid: opts.pid } : {};
    const both = (sym: string, fn: string): void => {
      x.attachUprobe({ name: lib.path, sym, fnName: `${fn}_enter_${i}`, ...pid });
      x.attachUretprobe({ name: lib.path, sym, fnName: `${fn}_return_${i}`, ...pid });
    };
    for (const sym of lib.write) both(sym, "write");
    for (const sym of lib.read) both(sym, "read");
    if (opts.handshake && lib.handshake) both(lib.handshake, "handshake");
  }));
  let first: bigint | undefined;
  return eventStream<RawSsl, SslEvent>(b, "events", source, { ...opts, pageCnt: 256 }, (r) => {
    first ??= r.ts;
    const handshake = r.rw === 2;
    const bytes = handshake ? Buffer.alloc(0) : typeof r.data === "string" ? Buffer.from(r.data, "latin1") : Buffer.from(r.data as Uint8Array);
    const kept = handshake ? 0 : Math.min(r.len, size);
    return {
      function: RW[r.rw] ?? "READ/RECV", timeS: Number(r.ts - first) / 1e9, pid: r.pid, tid: r.tid, uid: r.uid, comm: r.comm,
      length: r.len, data: bytes.subarray(0, kept).toString("latin1"), truncated: !handshake && r.len > kept,
      latencyMs: Number(r.delta_ns) / 1e6, binary: libs[r.bin]?.path ?? "?", library: libs[r.bin]?.kind ?? "openssl",
    };
  });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Sniff SSL data (OpenSSL, GnuTLS and NSS)",
  json: "event",
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "sniff this PID only (also probes its executable when OpenSSL is linked in, e.g. node)" },
    uidOption("sniff this UID only"),
    { name: "extra", short: "x", long: "extra", kind: "flag", help: "show extra fields (UID, TID)" },
    { name: "comm", short: "c", long: "comm", kind: "value", help: "sniff only commands matching string" },
    { name: "noOpenssl", short: "o", long: "no-openssl", kind: "flag", help: "do not show OpenSSL calls (libssl)" },
    { name: "noGnutls", short: "g", long: "no-gnutls", kind: "flag", help: "do not show GnuTLS calls" },
    { name: "noNss", short: "n", long: "no-nss", kind: "flag", help: "do not show NSS calls" },
    { name: "debug", short: "d", long: "debug", kind: "count", help: "debug mode: print the BPF program (on stderr) before starting" },
    { name: "ebpf", long: "ebpf", kind: "flag", help: "print the BPF program and exit", hidden: true },
    { name: "hexdump", long: "hexdump", kind: "flag", help: "show data as hexdump instead of trying to decode it as UTF-8" },
    { name: "maxBufferSize", long: "max-buffer-size", kind: "value", parse: "uint", default: MAX_BUF, help: `size of captured buffer (default ${MAX_BUF})` },
    { name: "latency", short: "l", long: "latency", kind: "flag", help: "show function latency" },
    { name: "handshake", long: "handshake", kind: "flag", help: "show SSL handshake latency, enabled only if latency option is on" },
    { name: "extraLib", long: "extra-lib", kind: "list", metavar: "KIND:PATH", help: "also probe this library or binary (kind openssl, gnutls or nss)" },
  ],
  examples: [
    ["tsbcc sslsniff", "sniff OpenSSL, GnuTLS and NSS plaintext"],
    ["tsbcc sslsniff -p 181", "sniff PID 181 only (a node process: its built-in OpenSSL too)"],
    ["tsbcc sslsniff -u 1000", "sniff only UID 1000"],
    ["tsbcc sslsniff -c curl", "sniff curl command only"],
    ["tsbcc sslsniff --no-openssl", "don't show OpenSSL calls"],
    ["tsbcc sslsniff --no-gnutls", "don't show GnuTLS calls"],
    ["tsbcc sslsniff --no-nss", "don't show NSS calls"],
    ["tsbcc sslsniff -x", "show process UID and TID"],
    ["tsbcc sslsniff -l", "show function latency"],
    ["tsbcc sslsniff -l --handshake", "show SSL handshake latency"],
    ["tsbcc sslsniff --extra-lib openssl:/usr/bin/node", "also the OpenSSL linked into every node"],
    ["tsbcc sslsniff --hexdump", "show data as hex instead of trying to decode it as UTF-8"],
    ["tsbcc sslsniff -d", "print the BPF program before starting"],
  ],
};

const HEX_LINE = 32;

/** BCC's --hexdump: the bytes as lowercase hex digits without separators, 32 digits (16 bytes) a line. */
export function hexLines(s: string): string {
  const hex = Buffer.from(s, "latin1").toString("hex");
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += HEX_LINE) lines.push(hex.slice(i, i + HEX_LINE));
  return lines.join("\n");
}

/** BCC's event line: FUNC TIME(s) COMM PID LEN, then UID TID with -x and LAT(ms) with -l; the data block unless empty. */
export function formatSslEvent(ev: SslEvent, o: { extra?: boolean; latency?: boolean; hexdump?: boolean }): string {
  let line = `${left(ev.function, 12)} ${left(ev.timeS.toFixed(9), 18)} ${left(ev.comm, 16)} ${left(ev.pid, 7)} ${left(ev.length, 6)}`;
  if (o.extra) line += ` ${left(ev.uid, 7)} ${left(ev.tid, 7)}`;
  if (o.latency) line += ` ${left(ev.latencyMs > 0 ? ev.latencyMs.toFixed(3) : "N/A", 7)}`;
  if (ev.data === "") return `${line}\n`;
  const body = o.hexdump ? hexLines(ev.data) : Buffer.from(ev.data, "latin1").toString("utf8");
  return `${line}\n----- DATA -----\n${body}\n----- END DATA${ev.truncated ? ` (TRUNCATED, ${ev.length - ev.data.length} bytes lost)` : ""} -----\n\n`;
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  if (o.handshake && !o.latency) throw new UsageError(NAME, "--handshake needs -l/--latency (it shows the handshake's latency)");
  const opts: SslsniffOptions = {
    pid: o.pid, uid: o.uid, comm: o.comm, noOpenssl: o.noOpenssl, noGnutls: o.noGnutls, noNss: o.noNss, extraLibs: o.extraLib,
    maxBufferSize: o.maxBufferSize, handshake: o.handshake, signal: run.signal,
  };
  if (o.ebpf) {
    run.out.write(`${sslsniffProgram(opts)}\n`);
    return 0;
  }
  if (o.debug > 0) run.err.write(`${sslsniffProgram(opts)}\n`);
  const stream = await sslsniff(opts);
  if (!run.json) {
    run.out.write(`${left("FUNC", 12)} ${left("TIME(s)", 18)} ${left("COMM", 16)} ${left("PID", 7)} ${left("LEN", 6)}` +
      `${o.extra ? ` ${left("UID", 7)} ${left("TID", 7)}` : ""}${o.latency ? ` ${left("LAT(ms)", 7)}` : ""}\n`);
  }
  return printEvents(stream, run, (ev) => formatSslEvent(ev, o));
}

export const tool: CliTool = { spec, main };
