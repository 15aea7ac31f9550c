// Network namespaces for the networking tests: two namespaces joined by a veth pair, addresses only inside them
// (10.200.0.1 and 10.200.0.2), so no packet ever leaves what the test created. Setup uses iproute2 (allowed in
// tests; the library itself never runs it). `enter` moves the calling thread (Node's main thread, where every
// tsbcc syscall runs) into a namespace through the sys seam and back.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { setNs } from "../../src/sys/native.js";
import { Fd } from "../../src/sys/index.js";
import { inNetns } from "../../src/sys/netlink.js";
import { processAlive } from "../../src/kernel/process.js";

const CLONE_NEWNET = 0x40000000;
let counter = 0;

export interface VethPair {
  /** Namespace names (for `ip netns exec`). */
  nsA: string;
  nsB: string;
  /** Device names: devA lives in nsA, devB in nsB. */
  devA: string;
  devB: string;
  ipA: string;
  ipB: string;
  /** Runs `fn` with this thread in namespace `ns`, then returns to the original namespace. */
  inNs<T>(ns: string, fn: () => T): T;
  /** Like inNs, for async functions (nothing else may run syscalls meanwhile: the whole thread is moved). */
  inNsAsync<T>(ns: string, fn: () => Promise<T>): Promise<T>;
  /** Runs a command in a namespace and returns its stdout. */
  exec(ns: string, cmd: string[], opts?: { allowFail?: boolean }): string;
  spawn(ns: string, cmd: string[]): ChildProcess;
  /** Like spawn, but only the network namespace changes (nsenter): /sys, and the cgroup mounts under it, stay. */
  spawnNetOnly(ns: string, cmd: string[]): ChildProcess;
  destroy(): void;
}

/** Why the netns tests cannot run here, or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root";
  const r = spawnSync("ip", ["-V"], { encoding: "utf8" });
  if (r.status !== 0) return "iproute2 (ip) is not installed";
  if (!existsSync("/proc/self/ns/net")) return "no network namespaces in this kernel";
  return undefined;
}

export function havePing(): boolean {
  return spawnSync("ping", ["-V"], { encoding: "utf8" }).status === 0;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Deletes test namespaces ("tsbcc-<pid>n<k>-a|b") whose process is gone (a test run that was killed). */
function sweepStaleNamespaces(): void {
  const list = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
  for (const m of list.matchAll(/^(tsbcc-(\d+)n\d+-[ab])\b/gm)) {
    if (!processAlive(Number(m[2]))) spawnSync("ip", ["netns", "del", m[1]!], { stdio: "ignore" });
  }
}

export function createVethPair(): VethPair {
  if (counter === 0) sweepStaleNamespaces();
  const tag = `${process.pid}n${counter++}`;
  const nsA = `tsbcc-${tag}-a`, nsB = `tsbcc-${tag}-b`;
  const devA = `tva${tag}`.slice(0, 15), devB = `tvb${tag}`.slice(0, 15);
  const ipA = "10.200.0.1", ipB = "10.200.0.2";
  const destroy = (): void => {
    for (const ns of [nsA, nsB]) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  };
  try {
    ip("netns", "add", nsA);
    ip("netns", "add", nsB);
    ip("link", "add", devA, "netns", nsA, "type", "veth", "peer", "name", devB, "netns", nsB);
    for (const [ns, dev, addr] of [[nsA, devA, ipA], [nsB, devB, ipB]] as const) {
      ip("-n", ns, "addr", "add", `${addr}/24`, "dev", dev);
      ip("-n", ns, "link", "set", dev, "up");
      ip("-n", ns, "link", "set", "lo", "up");
    }
  } catch (e) {
    destroy();
    throw e;
  }
  const inNsAsync = async <T>(ns: string, fn: () => Promise<T>): Promise<T> => {
    const home = openSync("/proc/self/ns/net", "r");
    const target = openSync(`/run/netns/${ns}`, "r");
    try {
      setNs(target, CLONE_NEWNET);
      try {
        return await fn();
      } finally {
        setNs(home, CLONE_NEWNET);
      }
    } finally {
      closeSync(target);
      closeSync(home);
    }
  };
  return {
    nsA, nsB, devA, devB, ipA, ipB, destroy,
    inNs<T>(ns: string, fn: () => T): T {
      const target = new Fd(openSync(`/run/netns/${ns}`, "r"), `netns ${ns}`);
      try {
        return inNetns(target, fn);
      } finally {
        target.close();
      }
    },
    inNsAsync,
    exec(ns, cmd, opts = {}) {
      const r = spawnSync("ip", ["netns", "exec", ns, ...cmd], { encoding: "utf8" });
      if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd.join(" ")} in ${ns} failed (${r.status}): ${r.stderr}`);
      return r.stdout;
    },
    spawn(ns, cmd) {
      return spawn("ip", ["netns", "exec", ns, ...cmd], { stdio: ["pipe", "pipe", "inherit"] });
    },
    spawnNetOnly(ns, cmd) {
      return spawn("nsenter", [`--net=/run/netns/${ns}`, ...cmd], { stdio: ["pipe", "pipe", "inherit"] });
    },
  };
}

/** Sends `count` pings from nsA to ipB, 10 ms apart; returns how many were answered. */
export function ping(pair: VethPair, count: number): number {
  const out = pair.exec(pair.nsA, ["ping", "-n", "-q", "-c", String(count), "-i", "0.01", "-W", "1", pair.ipB], { allowFail: true });
  const m = out.match(/(\d+) received/);
  return m ? Number(m[1]) : 0;
}
