// Map kinds and methods of the networking maps (issue 12), kept apart from rewrite-maps.ts: socket maps
// (`sock_map_update`, `msg_redirect_hash`, `sk_redirect_map`, ...) and local-storage maps (`sk_storage_get`,
// `task_storage_get`, ...). Each method becomes the libbpf helper with the map's address spliced in, like
// the core methods. The analyze-mode signatures live in include/tsbcc/net-maps.h.
import type { Piece, SubText } from "./edits.js";

export const NET_KINDS = ["sockmap", "sockhash", "sk_storage", "inode_storage", "task_storage", "cgrp_storage", "cgroup_storage", "percpu_cgroup_storage"];
export const NET_ARRAY_KINDS = ["sockmap"];

/** method -> [libbpf helper, argument count, whether the map goes first (storage) or second (socket maps), kinds]. */
const METHODS: Record<string, { helper: string; args: number; mapFirst: boolean; kinds: string[]; returnsValue?: boolean }> = {
  sock_map_update: { helper: "bpf_sock_map_update", args: 3, mapFirst: false, kinds: ["sockmap"] },
  sock_hash_update: { helper: "bpf_sock_hash_update", args: 3, mapFirst: false, kinds: ["sockhash"] },
  msg_redirect_map: { helper: "bpf_msg_redirect_map", args: 3, mapFirst: false, kinds: ["sockmap"] },
  msg_redirect_hash: { helper: "bpf_msg_redirect_hash", args: 3, mapFirst: false, kinds: ["sockhash"] },
  sk_redirect_map: { helper: "bpf_sk_redirect_map", args: 3, mapFirst: false, kinds: ["sockmap"] },
  sk_redirect_hash: { helper: "bpf_sk_redirect_hash", args: 3, mapFirst: false, kinds: ["sockhash"] },
  sk_storage_get: { helper: "bpf_sk_storage_get", args: 3, mapFirst: true, kinds: ["sk_storage"], returnsValue: true },
  sk_storage_delete: { helper: "bpf_sk_storage_delete", args: 1, mapFirst: true, kinds: ["sk_storage"] },
  inode_storage_get: { helper: "bpf_inode_storage_get", args: 3, mapFirst: true, kinds: ["inode_storage"], returnsValue: true },
  inode_storage_delete: { helper: "bpf_inode_storage_delete", args: 1, mapFirst: true, kinds: ["inode_storage"] },
  task_storage_get: { helper: "bpf_task_storage_get", args: 3, mapFirst: true, kinds: ["task_storage"], returnsValue: true },
  task_storage_delete: { helper: "bpf_task_storage_delete", args: 1, mapFirst: true, kinds: ["task_storage"] },
  cgrp_storage_get: { helper: "bpf_cgrp_storage_get", args: 3, mapFirst: true, kinds: ["cgrp_storage"], returnsValue: true },
  cgrp_storage_delete: { helper: "bpf_cgrp_storage_delete", args: 1, mapFirst: true, kinds: ["cgrp_storage"] },
  get_local_storage: { helper: "bpf_get_local_storage", args: 1, mapFirst: true, kinds: ["cgroup_storage", "percpu_cgroup_storage"], returnsValue: true },
};

export const NET_METHODS = Object.keys(METHODS);

/**
 * The generated C for a networking map method, or undefined when `method` is not one. `fail` raises the
 * caller's MethodError.
 */
export function netMethodCode(map: { name: string; kind: string }, method: string, argCount: number, arg: (i: number) => SubText,
  fail: (msg: string) => never): Piece[] | undefined {
  const m = METHODS[method];
  if (!m) return undefined;
  if (!m.kinds.includes(map.kind)) fail(`${method} only available on ${m.kinds.join("/")} maps (${map.name} is ${map.kind})`);
  if (argCount < m.args) fail(`${method}() on map ${map.name} needs ${m.args} argument${m.args === 1 ? "" : "s"}`);
  const ref = `(void *)&${map.name}`;
  const a = (i: number): Piece[] => ["(", arg(i), ")"];
  // Storage helpers take the map first; socket-map helpers take the context first and the map second.
  const pieces: Piece[][] = Array.from({ length: m.args }, (_, i) => a(i));
  pieces.splice(m.mapFirst ? 0 : 1, 0, [ref]);
  const call: Piece[] = [`${m.helper}(`, ...pieces.flatMap((p, i) => (i ? [", ", ...p] : p)), ")"];
  return m.returnsValue ? [`((__tsbcc_leaf_${map.name} *)`, ...call, ")"] : call;
}
