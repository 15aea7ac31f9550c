// XDP: through a BPF link (kernel >= 5.9; the kernel detaches it when the last fd closes, so also when the
// process dies) and through rtnetlink IFLA_XDP otherwise, or when asked to replace a program (links cannot).
// A netlink attachment outlives the process: it is removed on close, exit, SIGINT and SIGTERM, not on SIGKILL.
import { ArgumentError, ErrorCode } from "../errors.js";
import { bpf, SyscallError } from "../sys/index.js";
import { AttachType, ProgType, Rtnl, XdpFlags } from "../sys/abi.js";
import { attrU32, currentNetns, NlMessage, parseAttrs, withRtNetlink } from "../sys/netlink.js";
import type { Fd } from "../sys/index.js";
import { Link } from "../link/link.js";
import { getLink, ifinfomsg, resolveDevice, type DeviceRef, type NetDevice } from "./device.js";
import { attachFailure, NetAttachError } from "./errors.js";
import { requireProgType } from "./prog-info.js";

const MODES = XdpFlags.SKB_MODE | XdpFlags.DRV_MODE | XdpFlags.HW_MODE;
const ALL_FLAGS = MODES | XdpFlags.UPDATE_IF_NOEXIST | XdpFlags.REPLACE;

export type XdpMode = "generic" | "driver" | "offload";
export interface XdpOptions {
  /** XDP_FLAGS_* (BCC's flags argument): SKB_MODE, DRV_MODE, HW_MODE, UPDATE_IF_NOEXIST, REPLACE. */
  flags?: number;
  /** Spelled-out mode, added to `flags`. */
  mode?: XdpMode;
  /** "link" only, "netlink" only, or "auto": a link where the kernel has XDP links. */
  via?: "auto" | "link" | "netlink";
}

const modeFlag: Record<XdpMode, number> = { generic: XdpFlags.SKB_MODE, driver: XdpFlags.DRV_MODE, offload: XdpFlags.HW_MODE };

export function xdpFlags(opts: XdpOptions): number {
  const flags = (opts.flags ?? 0) | (opts.mode ? modeFlag[opts.mode] ?? -1 : 0);
  if (opts.mode && !(opts.mode in modeFlag)) throw new ArgumentError("mode", `expected "generic", "driver" or "offload", got ${JSON.stringify(opts.mode)}`);
  if (!Number.isInteger(flags) || flags < 0 || (flags & ~ALL_FLAGS)) throw new ArgumentError("flags", `unknown XDP flags 0x${flags.toString(16)}`);
  const modes = flags & MODES;
  if (modes & (modes - 1)) throw new ArgumentError("flags", "give at most one of SKB_MODE (generic), DRV_MODE (driver), HW_MODE (offload)");
  return flags;
}

/** Our own XDP links in this process, by "ifindex/mode", so removeXdp can close what netlink cannot replace. */
const ownLinks = new Map<string, Link>();

/** Attaches an XDP program to a device; closing the returned link detaches it. */
export function attachXdp(progFd: number, dev: DeviceRef, opts: XdpOptions = {}): Link {
  const flags = xdpFlags(opts);
  const via = opts.via ?? "auto";
  if (!["auto", "link", "netlink"].includes(via)) throw new ArgumentError("via", `expected "auto", "link" or "netlink", got ${JSON.stringify(via)}`);
  const device = resolveDevice(dev);
  requireProgType(progFd, [ProgType.XDP], `XDP on ${device.name}`);
  const target = `XDP on ${device.name} (ifindex ${device.ifindex})`;
  const key = `${device.ifindex}/${flags & MODES}`;
  if (via !== "netlink" && !(flags & XdpFlags.REPLACE)) {
    try {
      const fd = bpf.linkCreate({ progFd, targetFd: device.ifindex, attachType: AttachType.XDP, flags: flags & MODES });
      const link = new Link(`${target} (BPF link)`, [fd], () => ownLinks.delete(key));
      ownLinks.set(key, link);
      return link;
    } catch (e) {
      const linkless = e instanceof SyscallError && (e.errnoCode === "EINVAL" || e.errnoCode === "EOPNOTSUPP") && !xdpLinksWork();
      if (via === "link" || !linkless) throw attachFailure(target, e, xdpHints);
    }
  }
  const netns = currentNetns();
  try {
    setXdpFd(device, progFd, flags, target);
  } catch (e) {
    netns.close();
    throw e;
  }
  return new Link(`${target} (netlink)`, [], () => {
    try {
      setXdpFd(device, -1, flags & MODES, target, netns);
    } catch {
      // Gone with the device (or its namespace), or replaced by someone else: nothing of ours is left.
    } finally {
      netns.close();
    }
  });
}

const xdpHints = {
  EBUSY: "the device already has an XDP program in this mode (a link, or a netlink-attached one)",
  EEXIST: "the device already has an XDP program in this mode",
  EOPNOTSUPP: "the driver has no XDP support in this mode (try generic/SKB_MODE)",
};

function setXdpFd(device: NetDevice, progFd: number, flags: number, target: string, netns?: Fd): void {
  try {
    withRtNetlink((nl) => nl.request(new NlMessage(Rtnl.RTM_SETLINK, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK)
      .bytes(ifinfomsg(device.ifindex))
      .nest(Rtnl.IFLA_XDP, (m) => {
        m.s32(Rtnl.IFLA_XDP_FD, progFd);
        if (flags) m.u32(Rtnl.IFLA_XDP_FLAGS, flags);
      })), netns);
  } catch (e) {
    throw attachFailure(target, e, xdpHints);
  }
}

let linksProbe: boolean | undefined;
/** Whether this kernel has XDP links: decided by trying LINK_CREATE(BPF_XDP) with no program (EBADF says yes). */
function xdpLinksWork(): boolean {
  if (linksProbe !== undefined) return linksProbe;
  try {
    bpf.linkCreate({ progFd: 0x7fffffff, targetFd: 1, attachType: AttachType.XDP }).close();
    linksProbe = true;
  } catch (e) {
    linksProbe = e instanceof SyscallError && e.errnoCode === "EBADF";
  }
  return linksProbe;
}

/** BCC's remove_xdp: detaches whatever XDP program the device has in the mode `flags` selects. */
export function removeXdp(dev: DeviceRef, flags = 0): void {
  const f = xdpFlags({ flags });
  const device = resolveDevice(dev);
  const own = ownLinks.get(`${device.ifindex}/${f & MODES}`);
  if (own) {
    own.close();
    return;
  }
  try {
    setXdpFd(device, -1, f & MODES, `XDP on ${device.name}`);
  } catch (e) {
    if (e instanceof NetAttachError && e.code === ErrorCode.ATTACH && e.message.includes("EBUSY")) {
      throw new NetAttachError(ErrorCode.ATTACH, `XDP on ${device.name}`, "its program is held by a BPF link of another process; closing that link removes it", { cause: e });
    }
    throw e;
  }
}

export interface XdpState {
  /** XDP_ATTACHED_* : 0 none, 1 driver, 2 generic, 3 offload, 4 several. */
  attached: number;
  progId?: number;
  driverProgId?: number;
  genericProgId?: number;
  offloadProgId?: number;
}

/** What the device reports about its XDP programs (RTM_GETLINK, IFLA_XDP). */
export function queryXdp(dev: DeviceRef): XdpState {
  const device = resolveDevice(dev);
  const attrs = withRtNetlink((nl) => getLink(nl, device.ifindex));
  const xdp = attrs?.get(Rtnl.IFLA_XDP);
  if (!xdp) return { attached: 0 };
  const x = parseAttrs(xdp, 0, xdp.byteLength);
  const byte = x.get(Rtnl.IFLA_XDP_ATTACHED);
  return {
    attached: byte ? byte[0]! : 0,
    progId: attrU32(x.get(Rtnl.IFLA_XDP_PROG_ID)),
    driverProgId: attrU32(x.get(Rtnl.IFLA_XDP_DRV_PROG_ID)),
    genericProgId: attrU32(x.get(Rtnl.IFLA_XDP_SKB_PROG_ID)),
    offloadProgId: attrU32(x.get(Rtnl.IFLA_XDP_HW_PROG_ID)),
  };
}
