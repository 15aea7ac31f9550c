// Networking attachments (issue 12): XDP, tc, socket filters, cgroup programs, sockmap programs, test runs.
export { NetAttachError } from "./errors.js";
export { resolveDevice, type DeviceRef, type NetDevice } from "./device.js";
export { attachXdp, removeXdp, queryXdp, xdpFlags, type XdpOptions, type XdpMode, type XdpState } from "./xdp.js";
export { attachTc, tcFilters, tcxPrograms, type TcOptions, type TcDirection, type TcFilter } from "./tc.js";
export { attachSocketFilter, detachSocketFilter, openRawSocket, RawSocket, type PacketOptions } from "./socket-filter.js";
export { attachCgroup, cgroupHook, CGROUP_HOOKS, type CgroupHook } from "./cgroup.js";
export { attachSockmap, sockmapHook, SOCKMAP_HOOKS, type SockmapHook } from "./sockmap.js";
export { testRun, verdictName, type TestRunOptions, type TestRunResult } from "./test-run.js";
