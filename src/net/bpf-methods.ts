// The logic behind the BPF class's networking methods (attachXdp, attachTc, attachCgroup, attachSockmap,
// testRun, ...), kept here so that src/api/bpf.ts holds only one-line delegations. `NetHost` is the narrow view
// of a BPF object these need: its functions, program loading, maps and its record of attachments.
import { ArgumentError, ErrorCode } from "../errors.js";
import { ProgType } from "../sys/abi.js";
import type { Link } from "../link/link.js";
import { resolveDevice, type DeviceRef } from "./device.js";
import { NetAttachError } from "./errors.js";
import { attachXdp, type XdpOptions } from "./xdp.js";
import { attachTc, type TcDirection, type TcOptions } from "./tc.js";
import { attachCgroup, cgroupHook, type CgroupHook } from "./cgroup.js";
import { attachSockmap, sockmapHook, type SockmapHook } from "./sockmap.js";
import { testRun, type TestRunOptions, type TestRunResult } from "./test-run.js";

export interface NetFunction {
  name: string;
  fd: number;
}

export interface NetHost {
  functions: string[];
  loadProgram(name: string, progType: number, expectedAttachType?: number): number;
  loadedProgramFd(name: string): number | undefined;
  map(name: string): { fd: number; type: number } | undefined;
  remember(key: string, link: Link): void;
  attached(key: string): boolean;
  detach(key: string, what: string): void;
}

export type FnRef = string | NetFunction;

function netFn(h: NetHost, fn: FnRef, progType: number, expectedAttachType?: number): NetFunction {
  if (typeof fn === "object" && fn !== null && Number.isInteger(fn.fd)) return fn;
  if (typeof fn !== "string" || !h.functions.includes(fn)) {
    throw new ArgumentError("fn", `no function ${JSON.stringify(fn)} in this program (functions: ${h.functions.join(", ") || "none"})`);
  }
  return { name: fn, fd: h.loadProgram(fn, progType, expectedAttachType) };
}

function once(h: NetHost, key: string, what: string, attach: () => Link): void {
  if (h.attached(key)) throw new NetAttachError(ErrorCode.ATTACH, what, "already attached by this BPF object");
  h.remember(key, attach());
}

function fnOf(opts: { fnName?: string; fn?: FnRef }): FnRef {
  const fn = opts.fn ?? opts.fnName;
  if (fn === undefined) throw new ArgumentError("fnName", "give fnName or fn");
  return fn;
}

export function bpfAttachXdp(h: NetHost, dev: DeviceRef, fn: FnRef, flags: number | XdpOptions): void {
  const opts = typeof flags === "number" ? { flags } : flags;
  const device = resolveDevice(dev);
  const f = netFn(h, fn, ProgType.XDP);
  once(h, `xdp:${device.ifindex}`, `XDP on ${device.name}`, () => attachXdp(f.fd, device.ifindex, opts));
}

export function bpfDetachXdp(h: NetHost, dev: DeviceRef): void {
  const device = resolveDevice(dev);
  h.detach(`xdp:${device.ifindex}`, `XDP on ${device.name}`);
}

export type BpfTcOptions = Omit<TcOptions, "name"> & { fnName?: string; fn?: FnRef };

export function bpfAttachTc(h: NetHost, opts: BpfTcOptions): void {
  const fn = fnOf(opts);
  const device = resolveDevice(opts.dev);
  const direction = opts.direction ?? "ingress";
  const f = netFn(h, fn, ProgType.SCHED_CLS);
  once(h, `tc:${device.ifindex}:${direction}`, `tc ${direction} on ${device.name}`,
    () => attachTc(f.fd, { ...opts, dev: device.ifindex, direction, name: f.name }));
}

export function bpfDetachTc(h: NetHost, opts: { dev: DeviceRef; direction?: TcDirection }): void {
  const device = resolveDevice(opts.dev);
  const direction = opts.direction ?? "ingress";
  h.detach(`tc:${device.ifindex}:${direction}`, `tc ${direction} on ${device.name}`);
}

export interface BpfCgroupOptions {
  cgroup: string;
  hook: CgroupHook;
  fnName?: string;
  fn?: FnRef;
}

export function bpfAttachCgroup(h: NetHost, opts: BpfCgroupOptions): void {
  const { progType, attachType } = cgroupHook(opts.hook);
  const f = netFn(h, fnOf(opts), progType, attachType);
  once(h, `cgroup:${opts.cgroup}:${opts.hook}:${f.name}`, `cgroup ${opts.hook} of ${opts.cgroup}`,
    () => attachCgroup(f.fd, opts.cgroup, opts.hook));
}

export function bpfDetachCgroup(h: NetHost, opts: { cgroup: string; hook: CgroupHook; fnName: string }): void {
  h.detach(`cgroup:${opts.cgroup}:${opts.hook}:${opts.fnName}`, `cgroup ${opts.hook} of ${opts.cgroup}`);
}

export interface BpfSockmapOptions {
  map: string;
  hook: SockmapHook;
  fnName?: string;
  fn?: FnRef;
}

export function bpfAttachSockmap(h: NetHost, opts: BpfSockmapOptions): void {
  const { progType } = sockmapHook(opts.hook);
  const m = h.map(opts.map);
  if (!m) throw new ArgumentError("map", `no table named "${opts.map}"`);
  const f = netFn(h, fnOf(opts), progType);
  once(h, `sockmap:${opts.map}:${opts.hook}`, `${opts.hook} of map ${opts.map}`,
    () => attachSockmap(f.fd, { fd: m.fd, name: opts.map, type: m.type }, opts.hook));
}

export function bpfDetachSockmap(h: NetHost, opts: { map: string; hook: SockmapHook }): void {
  h.detach(`sockmap:${opts.map}:${opts.hook}`, `${opts.hook} of map ${opts.map}`);
}

export function bpfTestRun(h: NetHost, fn: FnRef, opts: TestRunOptions & { progType?: number }): TestRunResult {
  let f: NetFunction;
  if (typeof fn === "string" && opts.progType === undefined) {
    const fd = h.loadedProgramFd(fn);
    if (fd === undefined) throw new ArgumentError("fn", `"${fn}" is not loaded: load it with loadFunc("${fn}", BPF.XDP) (or the type it is) or pass progType`);
    f = { name: fn, fd };
  } else {
    f = netFn(h, fn, opts.progType ?? ProgType.UNSPEC);
  }
  return testRun(f.fd, opts, f.name);
}
