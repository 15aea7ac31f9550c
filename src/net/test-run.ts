// BPF_PROG_TEST_RUN: runs a loaded program on a crafted packet (and context) in the kernel, without a network,
// and returns the verdict, the packet as the program left it and the average run time. BCC has no such call.
import { ArgumentError } from "../errors.js";
import { bpf } from "../sys/index.js";
import { ProgType, TcAction, XdpAction } from "../sys/abi.js";
import { attaching } from "./errors.js";
import { progInfo } from "./prog-info.js";

export interface TestRunOptions {
  /**
   * The packet: an Ethernet frame. XDP and tc programs see it whole; socket filters and cgroup_skb programs see
   * it from the network header (the kernel parses and strips the Ethernet header first, as on a real socket).
   */
  data?: Uint8Array;
  /** The context in (struct xdp_md, struct __sk_buff, ...); also returned as the program left it. */
  ctx?: Uint8Array;
  /** Runs the program this many times (the duration is the average); default 1. */
  repeat?: number;
  /** BPF_F_TEST_* flags. */
  flags?: number;
  /** Room for the output packet (default: the input plus 4 KiB, for programs that grow it). */
  dataSizeOut?: number;
}

export interface TestRunResult {
  /** The program's return value. */
  retval: number;
  /** The return value by name for the program's type ("DROP", "PASS", "SHOT", ...), when it has one. */
  verdict?: string;
  /** The packet after the program ran. */
  data: Uint8Array;
  /** The context after the program ran (when one was given). */
  ctx?: Uint8Array;
  /** Average nanoseconds per run, as the kernel measured it. */
  duration: number;
}

const MAX_REPEAT = 0xffffffff;

export function verdictName(progType: number, retval: number): string | undefined {
  const name = (table: Record<string, number>, v: number): string | undefined => Object.entries(table).find(([, x]) => x === v)?.[0];
  switch (progType) {
    case ProgType.XDP:
      return name(XdpAction, retval);
    case ProgType.SCHED_CLS:
    case ProgType.SCHED_ACT:
      return name(TcAction, retval | 0);
    case ProgType.SOCKET_FILTER:
      return retval === 0 ? "DROP" : `KEEP ${retval >>> 0 === 0xffffffff ? "ALL" : retval}`;
    case ProgType.CGROUP_SKB:
      return (retval & 1) ? "ALLOW" : "DENY";
    default:
      return undefined;
  }
}

function bytesArg(name: string, v: unknown): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Uint8Array)) throw new ArgumentError(name, "expected a Uint8Array (or Buffer)");
  return v;
}

export function testRun(progFd: number, opts: TestRunOptions = {}, what = "program"): TestRunResult {
  const data = bytesArg("data", opts.data);
  const ctx = bytesArg("ctx", opts.ctx);
  const repeat = opts.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > MAX_REPEAT) throw new ArgumentError("repeat", `expected 1..${MAX_REPEAT}, got ${String(repeat)}`);
  const outSize = opts.dataSizeOut ?? (data ? data.byteLength + 4096 : 0);
  if (!Number.isInteger(outSize) || outSize < 0) throw new ArgumentError("dataSizeOut", `expected a non-negative integer, got ${String(outSize)}`);
  const dataOut = outSize ? new Uint8Array(outSize) : undefined;
  const ctxOut = ctx ? new Uint8Array(ctx.byteLength) : undefined;
  const { type } = progInfo(progFd);
  const r = attaching(`test run of ${what}`, () => bpf.progTestRunFull({ progFd, dataIn: data, dataOut, ctxIn: ctx, ctxOut, repeat, flags: opts.flags }), {
    EINVAL: "the kernel refused the input: a packet shorter than an Ethernet header, a context it does not accept, or flags this program type has no use for",
    ENOTSUPP: "this program type has no test run in this kernel",
    ENOSPC: "the output packet is larger than dataSizeOut",
  });
  return {
    retval: r.retval,
    verdict: verdictName(type, r.retval),
    data: dataOut ? dataOut.slice(0, Math.min(r.dataSizeOut, outSize)) : new Uint8Array(0),
    ctx: ctxOut && r.ctxSizeOut ? ctxOut.slice(0, r.ctxSizeOut) : undefined,
    duration: r.duration,
  };
}
