// sk_skb and sk_msg programs attach to a SOCKMAP or SOCKHASH, not to a device: BPF link where the kernel has
// sockmap links (>= 6.10, gone when the last fd closes), PROG_ATTACH on the map otherwise (detached on close;
// the map itself dies with the process unless pinned, taking the attachment with it).
import { ArgumentError } from "../errors.js";
import { bpf, SyscallError } from "../sys/index.js";
import { MapType, mapTypeName, AttachType, ProgType } from "../sys/abi.js";
import { Link } from "../link/link.js";
import { attachFailure } from "./errors.js";
import { requireProgType } from "./prog-info.js";

export const SOCKMAP_HOOKS = {
  msg_verdict: [ProgType.SK_MSG, AttachType.SK_MSG_VERDICT],
  stream_verdict: [ProgType.SK_SKB, AttachType.SK_SKB_STREAM_VERDICT],
  stream_parser: [ProgType.SK_SKB, AttachType.SK_SKB_STREAM_PARSER],
  skb_verdict: [ProgType.SK_SKB, AttachType.SK_SKB_VERDICT],
} as const;
export type SockmapHook = keyof typeof SOCKMAP_HOOKS;

export function sockmapHook(hook: string): { progType: number; attachType: number } {
  const h = (SOCKMAP_HOOKS as Record<string, readonly [number, number]>)[hook];
  if (!h) throw new ArgumentError("hook", `unknown sockmap hook ${JSON.stringify(hook)} (one of ${Object.keys(SOCKMAP_HOOKS).join(", ")})`);
  return { progType: h[0], attachType: h[1] };
}

export function attachSockmap(progFd: number, map: { fd: number; name: string; type: number }, hook: string): Link {
  const { progType, attachType } = sockmapHook(hook);
  const { fd: mapFd, name: mapName } = map;
  if (map.type !== MapType.SOCKMAP && map.type !== MapType.SOCKHASH) {
    throw new ArgumentError("map", `${mapName} is a ${mapTypeName(map.type)} map; sk_skb/sk_msg programs attach to a SOCKMAP or SOCKHASH`);
  }
  requireProgType(progFd, [progType], `${hook} of map ${mapName}`);
  const target = `${hook} of map ${mapName}`;
  try {
    try {
      return new Link(`${target} (BPF link)`, [bpf.linkCreate({ progFd, targetFd: mapFd, attachType })]);
    } catch (e) {
      if (!(e instanceof SyscallError && e.errnoCode === "EINVAL")) throw e;
    }
    bpf.progAttach({ targetFd: mapFd, progFd, attachType });
    return new Link(`${target} (PROG_ATTACH)`, [], () => {
      try {
        bpf.progDetach({ targetFd: mapFd, progFd, attachType });
      } catch {
        // The map is gone.
      }
    });
  } catch (e) {
    throw attachFailure(target, e, { EINVAL: "the map is not a SOCKMAP/SOCKHASH, or it already has a program for this hook" });
  }
}
