// Network devices by name or index, in the caller's network namespace (the netlink socket's, which is the
// namespace of the thread that opens it). An unknown device is an ArgumentError naming the argument.
import { ArgumentError } from "../errors.js";
import { Rtnl, Sock } from "../sys/abi.js";
import { ifNameToIndex } from "../sys/native.js";
import { attrStr, NlMessage, parseAttrs, withRtNetlink, type RtNetlink } from "../sys/netlink.js";
import { SyscallError } from "../sys/index.js";

export interface NetDevice {
  ifindex: number;
  name: string;
}

/** Device name or ifindex. */
export type DeviceRef = string | number;

export const IFINFOMSG_SIZE = 16;

/** struct ifinfomsg for `ifindex` (family AF_UNSPEC, no flag change). */
export function ifinfomsg(ifindex: number): Uint8Array {
  const b = new Uint8Array(IFINFOMSG_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, Sock.AF_UNSPEC);
  v.setInt32(4, ifindex, true);
  return b;
}

/** RTM_GETLINK for one device: its attributes, or undefined when the index does not exist. */
export function getLink(nl: RtNetlink, ifindex: number): Map<number, Uint8Array> | undefined {
  try {
    const [reply] = nl.request(new NlMessage(Rtnl.RTM_GETLINK, Rtnl.NLM_F_REQUEST).bytes(ifinfomsg(ifindex)));
    return reply ? parseAttrs(reply.payload, IFINFOMSG_SIZE, reply.payload.byteLength) : undefined;
  } catch (e) {
    if (e instanceof SyscallError && (e.errnoCode === "ENODEV" || e.errnoCode === "EINVAL")) return undefined;
    throw e;
  }
}

export function resolveDevice(dev: DeviceRef, argument = "dev"): NetDevice {
  if (typeof dev === "string") {
    if (dev === "" || dev.length > 15 || dev.includes("/") || dev.includes("\0")) throw new ArgumentError(argument, `bad device name ${JSON.stringify(dev)}`);
    const ifindex = ifNameToIndex(dev);
    if (!ifindex) throw new ArgumentError(argument, `no network device named "${dev}" in this network namespace`);
    return { ifindex, name: dev };
  }
  if (!Number.isInteger(dev) || dev <= 0 || dev > 0x7fffffff) throw new ArgumentError(argument, `expected a device name or a positive ifindex, got ${String(dev)}`);
  const attrs = withRtNetlink((nl) => getLink(nl, dev));
  if (!attrs) throw new ArgumentError(argument, `no network device with index ${dev} in this network namespace`);
  return { ifindex: dev, name: attrStr(attrs.get(Rtnl.IFLA_IFNAME)) ?? `if${dev}` };
}
