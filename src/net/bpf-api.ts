// What src/api/bpf.ts imports for its networking methods, as one namespace (`net.*`), so that file needs a
// single import line for the whole family.
import { ArgumentError } from "../errors.js";

export * from "./bpf-methods.js";
export { removeXdp, type XdpOptions } from "./xdp.js";
export { type TcDirection } from "./tc.js";
export { openRawSocket, attachSocketFilter, type RawSocket } from "./socket-filter.js";
export { type CgroupHook } from "./cgroup.js";
export { type SockmapHook } from "./sockmap.js";
export { type TestRunOptions, type TestRunResult } from "./test-run.js";
export { type DeviceRef } from "./device.js";

/** The program fd of a loaded function (BPFFunction), or an ArgumentError naming `fn`. */
export function fnFd(fn: { fd: number } | undefined): number {
  if (!fn || !Number.isInteger(fn.fd)) throw new ArgumentError("fn", "expected a function from loadFunc(name, type)");
  return fn.fd;
}
