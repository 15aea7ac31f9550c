// tc classifiers in direct-action mode: a TCX link where the kernel has TCX (>= 6.6; the kernel removes it when
// the last fd closes, so also when the process dies), otherwise a clsact qdisc plus a cls_bpf filter over
// rtnetlink. The netlink filter outlives the process: it is removed on close, exit, SIGINT and SIGTERM, and the
// next netlink attach on that device sweeps filters left by tsbcc processes that died (SIGKILL); the clsact
// qdisc is removed only when tsbcc created it and no filter is left on it.
import { ArgumentError } from "../errors.js";
import { bpf, SyscallError, type Fd } from "../sys/index.js";
import { AttachType, ProgType, Rtnl, Sock } from "../sys/abi.js";
import { attrStr, currentNetns, NlMessage, parseAttrs, withRtNetlink, type RtNetlink } from "../sys/netlink.js";
import { Link } from "../link/link.js";
import { processAlive } from "../kernel/process.js";
import { resolveDevice, type DeviceRef, type NetDevice } from "./device.js";
import { attachFailure } from "./errors.js";
import { requireProgType } from "./prog-info.js";

export type TcDirection = "ingress" | "egress";
export interface TcOptions {
  dev: DeviceRef;
  direction?: TcDirection;
  /** cls_bpf filter priority (netlink path; 1-65535, default 1). TCX orders programs by attach order instead. */
  priority?: number;
  /** cls_bpf filter handle (netlink path; default 1). */
  handle?: number;
  /** "tcx" only, "netlink" only, or "auto": TCX where the kernel has it. */
  via?: "auto" | "tcx" | "netlink";
  /** Program name recorded in the cls_bpf filter. */
  name?: string;
}

const TCMSG_SIZE = 20;
const NAME_PREFIX = "tsbcc";

function tcmsg(ifindex: number, handle: number, parent: number, info: number): Uint8Array {
  const b = new Uint8Array(TCMSG_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, Sock.AF_UNSPEC);
  v.setInt32(4, ifindex, true);
  v.setUint32(8, handle >>> 0, true);
  v.setUint32(12, parent >>> 0, true);
  v.setUint32(16, info >>> 0, true);
  return b;
}

function checkOptions(o: TcOptions): { direction: TcDirection; priority: number; handle: number; via: string } {
  const direction = o.direction ?? "ingress";
  if (direction !== "ingress" && direction !== "egress") throw new ArgumentError("direction", `expected "ingress" or "egress", got ${JSON.stringify(direction)}`);
  const priority = o.priority ?? 1;
  if (!Number.isInteger(priority) || priority < 1 || priority > 0xffff) throw new ArgumentError("priority", `expected 1..65535, got ${String(priority)}`);
  const handle = o.handle ?? 1;
  if (!Number.isInteger(handle) || handle < 1 || handle > 0xffffffff) throw new ArgumentError("handle", `expected a positive 32-bit integer, got ${String(handle)}`);
  const via = o.via ?? "auto";
  if (!["auto", "tcx", "netlink"].includes(via)) throw new ArgumentError("via", `expected "auto", "tcx" or "netlink", got ${JSON.stringify(via)}`);
  return { direction, priority, handle, via };
}

/** Attaches a SCHED_CLS (or SCHED_ACT) program as a direct-action classifier; closing the link detaches it. */
export function attachTc(progFd: number, opts: TcOptions): Link {
  const o = checkOptions(opts);
  const device = resolveDevice(opts.dev);
  requireProgType(progFd, [ProgType.SCHED_CLS, ProgType.SCHED_ACT], `tc ${o.direction} on ${device.name}`);
  const target = `tc ${o.direction} on ${device.name} (ifindex ${device.ifindex})`;
  if (o.via !== "netlink") {
    const attachType = o.direction === "ingress" ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS;
    try {
      return new Link(`${target} (TCX link)`, [bpf.linkCreate({ progFd, targetFd: device.ifindex, attachType })]);
    } catch (e) {
      const noTcx = e instanceof SyscallError && e.errnoCode === "EINVAL";
      if (o.via === "tcx" || !noTcx) throw attachFailure(target, e);
    }
  }
  return attachClsBpf(progFd, device, o, opts.name ?? "prog", target);
}

function filterParent(direction: TcDirection): number {
  return ((Rtnl.TC_H_CLSACT & 0xffff0000) | (direction === "ingress" ? Rtnl.TC_H_MIN_INGRESS : Rtnl.TC_H_MIN_EGRESS)) >>> 0;
}

/** Filter `info`: priority in the high 16 bits, protocol (ETH_P_ALL, network order) in the low 16. */
function filterInfo(priority: number): number {
  return ((priority << 16) | ((Sock.ETH_P_ALL >> 8) | ((Sock.ETH_P_ALL & 0xff) << 8))) >>> 0;
}

function attachClsBpf(progFd: number, device: NetDevice, o: { direction: TcDirection; priority: number; handle: number }, name: string, target: string): Link {
  const parent = filterParent(o.direction);
  const filterName = `${NAME_PREFIX}:${process.pid}:${name}`.slice(0, 255);
  const netns = currentNetns();
  try {
    return withRtNetlink((nl) => clsBpfFilter(nl, progFd, device, o, parent, filterName, target, netns));
  } catch (e) {
    netns.close();
    throw e;
  }
}

function clsBpfFilter(nl: RtNetlink, progFd: number, device: NetDevice, o: { priority: number; handle: number }, parent: number,
  filterName: string, target: string, netns: Fd): Link {
  sweepStaleFilters(nl, device.ifindex);
  const createdQdisc = ensureClsact(nl, device, target);
  try {
    nl.request(new NlMessage(Rtnl.RTM_NEWTFILTER, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK | Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL)
      .bytes(tcmsg(device.ifindex, o.handle, parent, filterInfo(o.priority)))
      .str(Rtnl.TCA_KIND, "bpf")
      .nest(Rtnl.TCA_OPTIONS, (m) => m.u32(Rtnl.TCA_BPF_FD, progFd).str(Rtnl.TCA_BPF_NAME, filterName).u32(Rtnl.TCA_BPF_FLAGS, Rtnl.TCA_BPF_FLAG_ACT_DIRECT)));
  } catch (e) {
    if (createdQdisc) removeClsactIfEmpty(nl, device.ifindex);
    throw attachFailure(target, e, { EEXIST: `a filter with priority ${o.priority} and handle ${o.handle} is already there` });
  }
  return new Link(`${target} (cls_bpf prio ${o.priority} handle ${o.handle})`, [], () => {
    try {
      withRtNetlink((nl2) => {
        try {
          deleteFilter(nl2, device.ifindex, o.handle, parent, filterInfo(o.priority));
        } catch {
          // The device or the filter is already gone.
        }
        if (createdQdisc) removeClsactIfEmpty(nl2, device.ifindex);
      }, netns);
    } catch {
      // The namespace is gone, and the device with it.
    } finally {
      netns.close();
    }
  });
}

function deleteFilter(nl: RtNetlink, ifindex: number, handle: number, parent: number, info: number): void {
  nl.request(new NlMessage(Rtnl.RTM_DELTFILTER, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK)
    .bytes(tcmsg(ifindex, handle, parent, info)).str(Rtnl.TCA_KIND, "bpf"));
}

/** Creates the clsact qdisc; returns false when it was already there (then it is not ours to remove). */
function ensureClsact(nl: RtNetlink, device: NetDevice, target: string): boolean {
  try {
    nl.request(new NlMessage(Rtnl.RTM_NEWQDISC, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK | Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL)
      .bytes(tcmsg(device.ifindex, Rtnl.CLSACT_HANDLE, Rtnl.TC_H_CLSACT, 0)).str(Rtnl.TCA_KIND, "clsact"));
    return true;
  } catch (e) {
    if (e instanceof SyscallError && e.errnoCode === "EEXIST") return false;
    throw attachFailure(target, e, {
      EOPNOTSUPP: "this kernel has no clsact qdisc (CONFIG_NET_SCH_INGRESS)",
      ENOENT: "this kernel has no clsact qdisc loaded (module sch_ingress; CONFIG_NET_SCH_INGRESS)",
    });
  }
}

export interface TcFilter {
  parent: number;
  handle: number;
  info: number;
  priority: number;
  kind?: string;
  name?: string;
}

/** Filters on the device's clsact ingress or egress hook (RTM_GETTFILTER dump). */
export function listTcFilters(nl: RtNetlink, ifindex: number, direction: TcDirection): TcFilter[] {
  const parent = filterParent(direction);
  let replies;
  try {
    replies = nl.request(new NlMessage(Rtnl.RTM_GETTFILTER, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_DUMP).bytes(tcmsg(ifindex, 0, parent, 0)));
  } catch (e) {
    if (e instanceof SyscallError && (e.errnoCode === "EINVAL" || e.errnoCode === "ENOENT")) return []; // No clsact qdisc.
    throw e;
  }
  const out: TcFilter[] = [];
  for (const r of replies) {
    if (r.type !== Rtnl.RTM_NEWTFILTER || r.payload.byteLength < TCMSG_SIZE) continue;
    const v = new DataView(r.payload.buffer, r.payload.byteOffset);
    const attrs = parseAttrs(r.payload, TCMSG_SIZE, r.payload.byteLength);
    const options = attrs.get(Rtnl.TCA_OPTIONS);
    const info = v.getUint32(16, true);
    const handle = v.getUint32(8, true);
    if (handle === 0) continue; // The per-priority chain header, not a filter.
    out.push({
      parent: v.getUint32(12, true), handle, info, priority: info >>> 16, kind: attrStr(attrs.get(Rtnl.TCA_KIND)),
      name: options ? attrStr(parseAttrs(options, 0, options.byteLength).get(Rtnl.TCA_BPF_NAME)) : undefined,
    });
  }
  return out;
}

function removeClsactIfEmpty(nl: RtNetlink, ifindex: number): void {
  try {
    if (listTcFilters(nl, ifindex, "ingress").length || listTcFilters(nl, ifindex, "egress").length) return;
    nl.request(new NlMessage(Rtnl.RTM_DELQDISC, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK)
      .bytes(tcmsg(ifindex, Rtnl.CLSACT_HANDLE, Rtnl.TC_H_CLSACT, 0)).str(Rtnl.TCA_KIND, "clsact"));
  } catch {
    // Already gone with the device.
  }
}

/** Removes cls_bpf filters named "tsbcc:<pid>:..." whose process is gone. Returns how many. */
export function sweepStaleFilters(nl: RtNetlink, ifindex: number): number {
  let removed = 0;
  for (const direction of ["ingress", "egress"] as const) {
    for (const f of listTcFilters(nl, ifindex, direction)) {
      const m = f.name?.match(/^tsbcc:(\d+):/);
      if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
      try {
        deleteFilter(nl, ifindex, f.handle, f.parent, f.info);
        removed++;
      } catch {
        // Someone else removed it first.
      }
    }
  }
  return removed;
}

/** Every filter on the device's clsact hooks (for tests and tools). */
export function tcFilters(dev: DeviceRef): TcFilter[] {
  const device = resolveDevice(dev);
  return withRtNetlink((nl) => [...listTcFilters(nl, device.ifindex, "ingress"), ...listTcFilters(nl, device.ifindex, "egress")]);
}

/** Ids of the programs on the device's TCX hook (BPF_PROG_QUERY); empty when the kernel has no TCX. */
export function tcxPrograms(dev: DeviceRef, direction: TcDirection = "ingress"): number[] {
  const device = resolveDevice(dev);
  try {
    return bpf.progQuery(device.ifindex, direction === "ingress" ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS);
  } catch (e) {
    if (e instanceof SyscallError && (e.errnoCode === "EINVAL" || e.errnoCode === "ENOENT")) return [];
    throw e;
  }
}
