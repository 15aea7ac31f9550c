// cgroup programs (cgroup_skb, cgroup_sock, cgroup/sock_addr, cgroup/sysctl, cgroup/dev, sockopt, sock_ops) on a
// cgroup v2 directory through a BPF link (kernel >= 5.7: the kernel detaches it when the last fd closes, also
// when the process dies); PROG_ATTACH with BPF_F_ALLOW_MULTI where links are missing (then only close and the
// exit/signal handlers detach it).
import { closeSync, openSync, statfsSync } from "node:fs";
import { ArgumentError } from "../errors.js";
import { bpf, Fd, SyscallError } from "../sys/index.js";
import { CGROUP2_SUPER_MAGIC, CgroupAttachFlags, AttachType, ProgType } from "../sys/abi.js";
import { Link } from "../link/link.js";
import { attachFailure } from "./errors.js";
import { requireProgType } from "./prog-info.js";

/** The cgroup hooks by name: the program type each needs and the attach type (also the expected one at load). */
export const CGROUP_HOOKS = {
  ingress: [ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS],
  egress: [ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS],
  sock_create: [ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE],
  sock_release: [ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_RELEASE],
  post_bind4: [ProgType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND],
  post_bind6: [ProgType.CGROUP_SOCK, AttachType.CGROUP_INET6_POST_BIND],
  bind4: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND],
  bind6: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND],
  connect4: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT],
  connect6: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT],
  sendmsg4: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG],
  sendmsg6: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG],
  recvmsg4: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_RECVMSG],
  recvmsg6: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_RECVMSG],
  getpeername4: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_GETPEERNAME],
  getpeername6: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_GETPEERNAME],
  getsockname4: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_GETSOCKNAME],
  getsockname6: [ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_GETSOCKNAME],
  sysctl: [ProgType.CGROUP_SYSCTL, AttachType.CGROUP_SYSCTL],
  device: [ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE],
  getsockopt: [ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_GETSOCKOPT],
  setsockopt: [ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_SETSOCKOPT],
  sock_ops: [ProgType.SOCK_OPS, AttachType.CGROUP_SOCK_OPS],
} as const satisfies Record<string, readonly [number, number]>;
export type CgroupHook = keyof typeof CGROUP_HOOKS;

export function cgroupHook(hook: string): { progType: number; attachType: number } {
  const h = (CGROUP_HOOKS as Record<string, readonly [number, number]>)[hook];
  if (!h) throw new ArgumentError("hook", `unknown cgroup hook ${JSON.stringify(hook)} (one of ${Object.keys(CGROUP_HOOKS).join(", ")})`);
  return { progType: h[0], attachType: h[1] };
}

/** Opens a cgroup v2 directory (O_RDONLY); ArgumentError when the path is not one. */
export function openCgroup(path: string): Fd {
  if (typeof path !== "string" || path === "") throw new ArgumentError("cgroup", "expected a cgroup v2 directory path");
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch (e) {
    throw new ArgumentError("cgroup", `${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (type !== CGROUP2_SUPER_MAGIC) throw new ArgumentError("cgroup", `${path} is not in a cgroup v2 hierarchy (mount cgroup2, e.g. at /sys/fs/cgroup)`);
  return new Fd(openSync(path, "r"), `cgroup ${path}`);
}

/** Attaches a program to `hook` of the cgroup at `path`; closing the link detaches it. */
export function attachCgroup(progFd: number, path: string, hook: string): Link {
  const { progType, attachType } = cgroupHook(hook);
  requireProgType(progFd, [progType], `cgroup ${hook}`);
  const cg = openCgroup(path);
  const target = `cgroup ${hook} of ${path}`;
  try {
    try {
      return new Link(`${target} (BPF link)`, [bpf.linkCreate({ progFd, targetFd: cg.value, attachType })]);
    } catch (e) {
      if (!(e instanceof SyscallError && e.errnoCode === "EINVAL")) throw e;
    }
    // No cgroup links: the legacy multi-program attach, detached by close (and the exit/signal handlers).
    bpf.progAttach({ targetFd: cg.value, progFd, attachType, flags: CgroupAttachFlags.ALLOW_MULTI });
    const held = new Fd(openSync(path, "r"), `cgroup ${path}`);
    return new Link(`${target} (PROG_ATTACH)`, [], () => {
      try {
        bpf.progDetach({ targetFd: held.value, progFd, attachType });
      } catch {
        // The cgroup was removed.
      } finally {
        held.close();
      }
    });
  } catch (e) {
    throw attachFailure(target, e, { EINVAL: "the program was loaded for another hook (expected attach type) or the kernel lacks this hook" });
  } finally {
    cg.close();
  }
}
