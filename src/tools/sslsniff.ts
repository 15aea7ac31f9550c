// sslsniff: the plaintext of TLS traffic, captured where a program hands it to OpenSSL (SSL_write) or gets it back
// (SSL_read): uprobes on libssl, on a process's own executable when it links OpenSSL statically (node does), and
// on extra libraries or binaries given with --extra-lib.
import { BPF } from "../index.js";
import { UsageError } from "./lib/errors.js";
import { left } from "./lib/format.js";
import type { ChosenSource } from "./lib/source.js";
import { attachToolProgram, eventStream, loadToolProgram, type StreamOptions, type ToolStream } from "./lib/stream.js";
import { printEvents, type CliTool, type ToolRun, type ToolSpec } from "./lib/tool.js";

const NAME = "sslsniff";
const MAX_BUF = 8192;

export interface SslsniffOptions extends Omit<StreamOptions, "source"> {
  pid?: number;
  /** Only this command name. */
  comm?: string;
  /** Skip the system libssl. */
  noOpenssl?: boolean;
  /** More binaries or libraries with OpenSSL's SSL_read/SSL_write (e.g. a statically linked program). */
  extraLibs?: string[];
  /** Bytes of data kept per call (default and maximum 8192). */
  maxBufferSize?: number;
}

export interface SslEvent {
  function: "READ/RECV" | "WRITE/SEND";
  /** Seconds since the first event. */
  timeS: number;
  pid: number;
  tid: number;
  comm: string;
  /** Bytes the call moved. */
  length: number;
  /** The plaintext (up to maxBufferSize bytes), as latin1 text. */
  data: string;
  truncated: boolean;
  /** The binary whose SSL_read/SSL_write it was. */
  binary: string;
}

function program(o: SslsniffOptions, binaries: string[]): string {
  const size = o.maxBufferSize ?? MAX_BUF;
  return `
struct ssl_event_t {
    u64 ts;
    u32 pid;
    u32 tid;
    u32 len;
    u32 rw;
    u32 bin;
    char comm[TASK_COMM_LEN];
    char data[${MAX_BUF}];
};
BPF_PERCPU_ARRAY(scratch, struct ssl_event_t, 1);
BPF_HASH(read_bufs, u64, u64, 10240);
BPF_HASH(write_bufs, u64, u64, 10240);
BPF_PERF_OUTPUT(events);

static int wanted(void) {
    u64 id = bpf_get_current_pid_tgid();
    if (${o.pid ?? -1} >= 0 && (id >> 32) != ${o.pid ?? 0}) return 0;
    ${o.comm ? `char comm[TASK_COMM_LEN] = {}; bpf_get_current_comm(&comm, sizeof(comm)); const char want[] = ${JSON.stringify(o.comm.slice(0, 15))};
    for (int i = 0; i < sizeof(want); i++) if (comm[i] != want[i]) return 0;` : ""}
    return 1;
}

static int emit(struct pt_regs *ctx, u64 buf, int len, u32 rw, u32 bin) {
    if (len <= 0 || !buf) return 0;
    int zero = 0;
    struct ssl_event_t *ev = scratch.lookup(&zero);
    if (!ev) return 0;
    u64 id = bpf_get_current_pid_tgid();
    ev->ts = bpf_ktime_get_ns();
    ev->pid = id >> 32;
    ev->tid = (u32)id;
    ev->len = len;
    ev->rw = rw;
    ev->bin = bin;
    bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
    u32 n = len;
    if (n > ${size}) n = ${size};
    // (n - 1) & (MAX - 1) + 1 keeps n (1..MAX) and shows the verifier the bounds.
    bpf_probe_read_user(&ev->data, ((n - 1) & ${MAX_BUF - 1}) + 1, (void *)buf);
    events.perf_submit(ctx, ev, sizeof(*ev));
    return 0;
}
${binaries.flatMap((_, i) => [["write", 1], ["read", 0]].map(([fn, rw]) => `
int ${fn}_enter_${i}(struct pt_regs *ctx) {
    if (!wanted()) return 0;
    u64 id = bpf_get_current_pid_tgid(), buf = PT_REGS_PARM2(ctx);
    ${fn}_bufs.update(&id, &buf);
    return 0;
}
// On return, with what the call moved: an SSL_write made before the handshake is done fails and is retried.
int ${fn}_return_${i}(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u64 *buf = ${fn}_bufs.lookup(&id);
    if (!buf) return 0;
    u64 b = *buf;
    ${fn}_bufs.delete(&id);
    return emit(ctx, b, (int)PT_REGS_RC(ctx), ${rw}, ${i});
}`)).join("\n")}
`;
}

/** The binaries to probe: libssl, the process's executable when it has OpenSSL inside, the extra ones. */
function targets(o: SslsniffOptions): string[] {
  const out: string[] = [];
  const hasSsl = (path: string): boolean => {
    try {
      return BPF.getUserFunctions(path, "SSL_write").length > 0 && BPF.getUserFunctions(path, "SSL_read").length > 0;
    } catch {
      return false;
    }
  };
  if (!o.noOpenssl) {
    const lib = BPF.findLibrary("ssl", o.pid);
    if (lib && hasSsl(lib)) out.push(lib);
  }
  if (o.pid !== undefined && hasSsl(`/proc/${o.pid}/exe`)) out.push(`/proc/${o.pid}/exe`);
  for (const extra of o.extraLibs ?? []) {
    const path = extra.replace(/^openssl:/, "");
    const found = BPF.findLibrary(path) ?? path;
    if (!hasSsl(found)) throw new UsageError(NAME, `${extra}: no SSL_read/SSL_write in ${found}`);
    out.push(found);
  }
  return [...new Set(out)];
}

/** sslsniff as a library: one SslEvent per SSL_read/SSL_write call that moved data. */
export async function sslsniff(opts: SslsniffOptions = {}): Promise<ToolStream<SslEvent>> {
  if (opts.pid !== undefined && (!Number.isInteger(opts.pid) || opts.pid < 0)) throw new UsageError(NAME, `pid must be a non-negative integer, got ${opts.pid}`);
  const size = opts.maxBufferSize ?? MAX_BUF;
  if (!Number.isInteger(size) || size < 1 || size > MAX_BUF) throw new UsageError(NAME, `maxBufferSize must be 1..${MAX_BUF}, got ${size}`);
  const bins = targets(opts);
  if (bins.length === 0) throw new UsageError(NAME, "no OpenSSL found to probe (no libssl; give -p PID of a program with OpenSSL inside, or --extra-lib openssl:PATH)");
  const source: ChosenSource = { kind: "uprobe", targets: bins.flatMap((b) => [`${b}:SSL_write`, `${b}:SSL_read`]), forced: false };
  const b = await loadToolProgram(NAME, program(opts, bins));
  attachToolProgram(NAME, b, (x) => bins.forEach((bin, i) => {
    const pid = opts.pid !== undefined ? { pid: opts.pid } : {};
    x.attachUprobe({ name: bin, sym: "SSL_write", fnName: `write_enter_${i}`, ...pid });
    x.attachUretprobe({ name: bin, sym: "SSL_write", fnName: `write_return_${i}`, ...pid });
    x.attachUprobe({ name: bin, sym: "SSL_read", fnName: `read_enter_${i}`, ...pid });
    x.attachUretprobe({ name: bin, sym: "SSL_read", fnName: `read_return_${i}`, ...pid });
  }));
  let first: bigint | undefined;
  return eventStream<{ ts: bigint; pid: number; tid: number; len: number; rw: number; bin: number; comm: string; data: Uint8Array | number[] | string }, SslEvent>(
    b, "events", source, { ...opts, pageCnt: 256 }, (r) => {
      first ??= r.ts;
      const bytes = typeof r.data === "string" ? Buffer.from(r.data, "latin1") : Buffer.from(r.data as Uint8Array);
      const kept = Math.min(r.len, size);
      return {
        function: r.rw ? "WRITE/SEND" : "READ/RECV", timeS: Number(r.ts - first) / 1e9, pid: r.pid, tid: r.tid, comm: r.comm,
        length: r.len, data: bytes.subarray(0, kept).toString("latin1"), truncated: r.len > kept, binary: bins[r.bin] ?? "?",
      };
    });
}

export const spec: ToolSpec = {
  name: NAME,
  description: "Sniff OpenSSL written and readed data",
  json: "event",
  options: [
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "sniff this PID only (also probes its executable when OpenSSL is linked in, e.g. node)" },
    { name: "comm", short: "c", long: "comm", kind: "value", help: "sniff only commands matching string" },
    { name: "noOpenssl", short: "o", long: "no-openssl", kind: "flag", help: "do not show OpenSSL calls (libssl)" },
    { name: "extraLib", long: "extra-lib", kind: "list", metavar: "openssl:PATH", help: "also probe this library or binary with OpenSSL inside" },
    { name: "hexdump", long: "hexdump", kind: "flag", help: "show data as hexdump instead of trying to decode it as UTF-8" },
    { name: "maxBufferSize", long: "max-buffer-size", kind: "value", parse: "uint", default: MAX_BUF, help: `size of captured buffer (default ${MAX_BUF})` },
  ],
  examples: [
    ["tsbcc sslsniff", "sniff OpenSSL (libssl) plaintext"],
    ["tsbcc sslsniff -p 181", "sniff PID 181 only (a node process: its built-in OpenSSL too)"],
    ["tsbcc sslsniff -c curl", "sniff curl command only"],
    ["tsbcc sslsniff --extra-lib openssl:/usr/bin/node", "also the OpenSSL linked into every node"],
    ["tsbcc sslsniff --hexdump", "show data as hex instead of text"],
  ],
};

function hexdump(s: string): string {
  const bytes = Buffer.from(s, "latin1");
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.subarray(i, i + 16);
    lines.push(`${i.toString(16).padStart(8, "0")}  ${[...chunk].map((c) => c.toString(16).padStart(2, "0")).join(" ").padEnd(47)}  ${[...chunk].map((c) => (c >= 32 && c < 127 ? String.fromCharCode(c) : ".")).join("")}`);
  }
  return lines.join("\n");
}

async function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  const stream = await sslsniff({ pid: o.pid, comm: o.comm, noOpenssl: o.noOpenssl, extraLibs: o.extraLib, maxBufferSize: o.maxBufferSize, signal: run.signal });
  if (!run.json) run.out.write(`${left("FUNC", 12)} ${left("TIME(s)", 18)} ${left("COMM", 16)} ${left("PID", 7)} ${left("LEN", 6)}\n`);
  return printEvents(stream, run, (ev) => {
    const body = o.hexdump ? hexdump(ev.data) : Buffer.from(ev.data, "latin1").toString("utf8");
    return `${left(ev.function, 12)} ${left(ev.timeS.toFixed(9), 18)} ${left(ev.comm, 16)} ${left(ev.pid, 7)} ${left(ev.length, 6)}\n` +
      `----- DATA${ev.truncated ? ` (TRUNCATED, ${ev.length - ev.data.length} bytes lost)` : ""} -----\n${body}\n----- END DATA -----\n\n`;
  });
}

export const tool: CliTool = { spec, main };
