// rtnetlink: the kernel's own interface for configuring network devices, qdiscs and filters. tsbcc speaks it
// directly (no `ip`/`tc` binaries) for what BPF links cannot do: XDP on kernels without XDP links, clsact +
// cls_bpf on kernels without TCX, and queries (which program is on a device). One request at a time, blocking:
// each is a single round trip to the kernel, answered at once.
import { closeSync, openSync } from "node:fs";
import { Fd } from "./fd.js";
import { bindSocket, recvFrom, sendTo, setNs, setSockOpt, socketOpen, SyscallError } from "./native.js";
import { CLONE_NEWNET, Rtnl, Sock } from "./abi.js";

/**
 * The calling thread's network namespace, held open. An attachment made over netlink keeps it so that its
 * removal talks to the same namespace even when close() runs after the caller moved elsewhere.
 */
export function currentNetns(): Fd {
  return new Fd(openSync("/proc/thread-self/ns/net", "r"), "netns");
}

/** Runs `fn` with the calling thread in network namespace `netns`, then moves it back. */
export function inNetns<T>(netns: Fd | undefined, fn: () => T): T {
  if (!netns) return fn();
  const home = openSync("/proc/thread-self/ns/net", "r");
  try {
    setNs(netns.value, CLONE_NEWNET);
    try {
      return fn();
    } finally {
      setNs(home, CLONE_NEWNET);
    }
  } finally {
    closeSync(home);
  }
}

const NLMSG_HDRLEN = 16;
const NLA_HDRLEN = 4;
const align4 = (n: number): number => (n + 3) & ~3;

/** A netlink attribute writer: fixed header bytes first, then (nested) attributes, lengths patched at the end. */
export class NlMessage {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #len = NLMSG_HDRLEN;
  readonly type: number;
  readonly flags: number;
  constructor(type: number, flags: number) {
    this.type = type;
    this.flags = flags;
  }
  #grow(n: number): number {
    const at = this.#len;
    const need = align4(at + n);
    if (need > this.#buf.byteLength) {
      const bigger = new Uint8Array(Math.max(need, this.#buf.byteLength * 2));
      bigger.set(this.#buf);
      this.#buf = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    this.#len = need;
    return at;
  }
  /** Raw fixed-layout bytes (ifinfomsg, tcmsg), written right after the netlink header. */
  bytes(b: Uint8Array): this {
    this.#buf.set(b, this.#grow(b.byteLength));
    return this;
  }
  attr(type: number, payload: Uint8Array): this {
    const at = this.#grow(NLA_HDRLEN + payload.byteLength);
    this.#view.setUint16(at, NLA_HDRLEN + payload.byteLength, true);
    this.#view.setUint16(at + 2, type, true);
    this.#buf.set(payload, at + NLA_HDRLEN);
    return this;
  }
  u32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.attr(type, b);
  }
  s32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    return this.attr(type, b);
  }
  str(type: number, s: string): this {
    return this.attr(type, new TextEncoder().encode(`${s}\0`));
  }
  /** A nested attribute: `fill` adds the inner attributes. */
  nest(type: number, fill: (m: this) => void): this {
    const at = this.#grow(NLA_HDRLEN);
    fill(this);
    this.#view.setUint16(at, this.#len - at, true);
    this.#view.setUint16(at + 2, type | Rtnl.NLA_F_NESTED, true);
    return this;
  }
  /** The finished message with header (length, type, flags, sequence number). */
  encode(seq: number): Uint8Array {
    const out = this.#buf.slice(0, this.#len);
    const v = new DataView(out.buffer);
    v.setUint32(0, this.#len, true);
    v.setUint16(4, this.type, true);
    v.setUint16(6, this.flags, true);
    v.setUint32(8, seq, true);
    return out;
  }
}

/** Attributes of one level: type (without the nested flag) -> payload. */
export function parseAttrs(buf: Uint8Array, start: number, end: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let at = start; at + NLA_HDRLEN <= end;) {
    const len = v.getUint16(at, true);
    if (len < NLA_HDRLEN || at + len > end) break;
    out.set(v.getUint16(at + 2, true) & 0x3fff, buf.subarray(at + NLA_HDRLEN, at + len));
    at += align4(len);
  }
  return out;
}

export function attrU32(a: Uint8Array | undefined): number | undefined {
  return a && a.byteLength >= 4 ? new DataView(a.buffer, a.byteOffset, 4).getUint32(0, true) : undefined;
}

export function attrStr(a: Uint8Array | undefined): string | undefined {
  if (!a) return undefined;
  const nul = a.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? a.subarray(0, nul) : a);
}

/** One reply message: its type and payload (after the netlink header). */
export interface NlReply {
  type: number;
  payload: Uint8Array;
}

const msgNames: Record<number, string> = {
  [Rtnl.RTM_GETLINK]: "RTM_GETLINK", [Rtnl.RTM_SETLINK]: "RTM_SETLINK", [Rtnl.RTM_NEWQDISC]: "RTM_NEWQDISC",
  [Rtnl.RTM_DELQDISC]: "RTM_DELQDISC", [Rtnl.RTM_GETQDISC]: "RTM_GETQDISC", [Rtnl.RTM_NEWTFILTER]: "RTM_NEWTFILTER",
  [Rtnl.RTM_DELTFILTER]: "RTM_DELTFILTER", [Rtnl.RTM_GETTFILTER]: "RTM_GETTFILTER",
};

/** An rtnetlink socket in the caller's network namespace. */
export class RtNetlink {
  readonly #fd: Fd;
  #seq = 1;
  readonly #buf = new Uint8Array(64 * 1024);
  /** A socket in the calling thread's namespace, or in `netns` (a socket stays in the namespace it was made in). */
  constructor(netns?: Fd) {
    this.#fd = new Fd(inNetns(netns, () => socketOpen(Sock.AF_NETLINK, Sock.SOCK_RAW | Sock.SOCK_CLOEXEC, Sock.NETLINK_ROUTE)), "rtnetlink");
    try {
      const one = new Uint8Array([1, 0, 0, 0]);
      // Extended acks carry the kernel's own explanation of a refusal ("Can't replace active BPF XDP link").
      try { setSockOpt(this.#fd.value, Sock.SOL_NETLINK, Sock.NETLINK_EXT_ACK, one); } catch { /* older kernels */ }
      const addr = new Uint8Array(12);
      new DataView(addr.buffer).setUint16(0, Sock.AF_NETLINK, true);
      bindSocket(this.#fd.value, addr);
    } catch (e) {
      this.#fd.close();
      throw e;
    }
  }

  /**
   * Sends `msg` and collects replies until the kernel's ack (or, for dumps, NLMSG_DONE). A refusal becomes a
   * SyscallError naming the message type, with the kernel's extended-ack text as detail.
   */
  request(msg: NlMessage): NlReply[] {
    const seq = this.#seq++;
    const what = `netlink(${msgNames[msg.type] ?? msg.type})`;
    sendTo(this.#fd.value, msg.encode(seq), 0, null);
    const replies: NlReply[] = [];
    for (;;) {
      const n = recvFrom(this.#fd.value, this.#buf, 0);
      if (n < 0) continue;
      const v = new DataView(this.#buf.buffer, 0, n);
      for (let at = 0; at + NLMSG_HDRLEN <= n;) {
        const len = v.getUint32(at, true);
        const type = v.getUint16(at + 4, true);
        const flags = v.getUint16(at + 6, true);
        if (len < NLMSG_HDRLEN || at + len > n) break;
        if (v.getUint32(at + 8, true) === seq) {
          if (type === Rtnl.NLMSG_DONE) return replies;
          if (type === Rtnl.NLMSG_ERROR) {
            const err = -v.getInt32(at + NLMSG_HDRLEN, true);
            if (err === 0) return replies;
            throw new SyscallError(what, err, extAckMessage(this.#buf.subarray(0, n), at, len, flags));
          }
          replies.push({ type, payload: this.#buf.slice(at + NLMSG_HDRLEN, at + len) });
          if (!(flags & Rtnl.NLM_F_MULTI)) return replies;
        }
        at += align4(len);
      }
    }
  }

  close(): void {
    this.#fd.close();
  }
}

function extAckMessage(buf: Uint8Array, at: number, len: number, flags: number): string | undefined {
  if (!(flags & Rtnl.NLM_F_ACK_TLVS)) return undefined;
  // nlmsgerr: error (4) + the original header (16), plus the original payload unless NLM_F_CAPPED.
  const v = new DataView(buf.buffer, buf.byteOffset);
  const origLen = flags & Rtnl.NLM_F_CAPPED ? NLMSG_HDRLEN : v.getUint32(at + NLMSG_HDRLEN + 4, true);
  const tlvStart = at + NLMSG_HDRLEN + 4 + align4(origLen);
  return attrStr(parseAttrs(buf, tlvStart, at + len).get(Rtnl.NLMSGERR_ATTR_MSG));
}

/** Runs `fn` with a fresh rtnetlink socket (in `netns` when given), closed afterwards. */
export function withRtNetlink<T>(fn: (nl: RtNetlink) => T, netns?: Fd): T {
  const nl = new RtNetlink(netns);
  try {
    return fn(nl);
  } finally {
    nl.close();
  }
}
