// Map declarations and map method calls.
//
// In analyze mode every map macro declares `struct __tsbcc_map_<name> <name> = { "<kind>", <pin>, <inner>, ... }`
// (include/tsbcc/dialect.h), so a map is a global VarDecl of that struct type and its kind, pin path and inner
// map name are the first three initializers. A method call is a CallExpr whose callee is the member `<method>` of
// a DeclRefExpr to such a variable; it becomes a libbpf helper call on `&<name>`, with the key and value types
// spelled `__tsbcc_key_<name>` / `__tsbcc_leaf_<name>` (typedefs the codegen-mode macros emit).
import { ErrorCode, TsbccError } from "../errors.js";

import { type AstNode, ignoreParensCasts, stringLiteralValue, qualType } from "./ast.js";
import type { Piece, SubText } from "./edits.js";

export const MAP_STRUCT_PREFIX = "struct __tsbcc_map_";

/** Map kinds (BCC's BPF_TABLE type strings) this compiler emits, and which of them are arrays. */
export const SUPPORTED_KINDS = new Set([
  "hash", "array", "percpu_hash", "percpu_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "histogram",
  "prog", "perf_output", "ringbuf", "perf_array", "queue", "stack", "cgroup_array", "stacktrace", "devmap",
  "cpumap", "xskmap", "array_of_maps", "hash_of_maps", "sk_storage", "inode_storage", "task_storage", "cgroup_storage",
  "percpu_cgroup_storage", "cgrp_storage", "sockmap", "sockhash", "extern",
]);
const ARRAY_KINDS = new Set(["array", "percpu_array", "prog", "perf_array", "cgroup_array", "devmap", "cpumap", "xskmap", "array_of_maps", "sockmap"]);

export interface MapInfo {
  name: string;
  declId: string;
  kind: string;
  keyType: string;
  leafType: string;
  leafDesugared: string;
  pinPath?: string;
  innerMap?: string;
  /** The kind string literal when the user spelled it (BPF_TABLE("hash", ...)): rewritten to a bare kind. */
  kindLiteral?: AstNode;
  innerLiteral?: AstNode;
  decl: AstNode;
  /** For increment: a missing key is inserted (BCC does this for plain hash maps only). */
  insertsOnIncrement: boolean;
  /** "public" (BPF_TABLE_PUBLIC), "shared" (BPF_TABLE_SHARED) or "extern" (BPF_TABLE("extern", ...)). */
  share?: "public" | "shared" | "extern";
}

function literalOf(init: AstNode | undefined): { lit?: AstNode; value?: string } {
  if (!init) return {};
  const n = ignoreParensCasts(init);
  if (n.kind === "StringLiteral" && typeof n.value === "string") return { lit: n, value: stringLiteralValue(n.value) };
  return {};
}

/** Reads a map VarDecl (returns undefined for other declarations). `records` maps record names to RecordDecls. */
export function readMapDecl(decl: AstNode, records: Map<string, AstNode>): MapInfo | undefined {
  if (decl.kind !== "VarDecl" || !decl.name) return undefined;
  const t = qualType(decl);
  if (!t.startsWith(MAP_STRUCT_PREFIX)) return undefined;
  const init = decl.inner?.find((c) => c.kind === "InitListExpr");
  const elems = init?.inner ?? [];
  const kind = literalOf(elems[0]);
  const pin = literalOf(elems[1]);
  const inner = literalOf(elems[2]);
  const share = literalOf(elems[5]);
  const rec = records.get(t.slice("struct ".length));
  const field = (n: string): AstNode | undefined => rec?.inner?.find((f) => f.kind === "FieldDecl" && f.name === n);
  const keyF = field("key");
  const leafF = field("leaf");
  const info: MapInfo = {
    name: decl.name,
    declId: decl.id,
    kind: kind.value ?? "",
    keyType: keyF ? qualType(keyF) : "int",
    leafType: leafF ? qualType(leafF) : "u64",
    leafDesugared: leafF?.type?.desugaredQualType ?? (leafF ? qualType(leafF) : ""),
    decl,
    insertsOnIncrement: false,
  };
  if (pin.value !== undefined) info.pinPath = pin.value;
  if (inner.value !== undefined) info.innerMap = inner.value;
  if (kind.lit) info.kindLiteral = kind.lit;
  if (inner.lit) info.innerLiteral = inner.lit;
  // An extern table's kind is known only at load (it is another module's map): inserting on a miss is right for a
  // hash and never runs for an array, whose slots always exist.
  info.insertsOnIncrement = info.kind === "hash" || info.kind === "extern" || (info.kind === "histogram" && info.keyType !== "int");
  if (info.kind === "extern") info.share = "extern";
  else if (share.value === "public" || share.value === "shared") info.share = share.value;
  return info;
}

export function isArrayKind(kind: string): boolean {
  return ARRAY_KINDS.has(kind) || kind === "histogram";
}

export interface MethodCall {
  map: MapInfo;
  method: string;
  call: AstNode;
  args: AstNode[];
}

/** Recognizes `map.method(args)`; `maps` is keyed by the map VarDecl id. */
export function asMethodCall(call: AstNode, maps: Map<string, MapInfo>): MethodCall | undefined {
  if (call.kind !== "CallExpr" || !call.inner?.length) return undefined;
  const callee = ignoreParensCasts(call.inner[0]!);
  if (callee.kind !== "MemberExpr" || callee.isArrow || !callee.name) return undefined;
  const base = ignoreParensCasts(callee.inner?.[0] ?? callee);
  if (base.kind !== "DeclRefExpr" || !base.referencedDecl) return undefined;
  const map = maps.get(base.referencedDecl.id);
  if (!map) return undefined;
  return { map, method: callee.name, call, args: call.inner.slice(1) };
}

/**
 * Local-storage and socket-map methods, one helper call each: storage helpers take the map first
 * (`m.<method>(obj, ...)` -> `bpf_<method>(&m, obj, ...)`), socket-map helpers take the context first and the map
 * second (`m.<method>(ctx, key, flags)`). `kinds` are the maps a method applies to; `value`: the result points at
 * the map's value (cast to its type, so `->field` type-checks).
 */
const SOCKET_STORAGE_METHODS: Record<string, { helper: string; args: number; mapFirst: boolean; kinds: string[]; value?: boolean }> = {
  sock_map_update: { helper: "bpf_sock_map_update", args: 3, mapFirst: false, kinds: ["sockmap"] },
  sock_hash_update: { helper: "bpf_sock_hash_update", args: 3, mapFirst: false, kinds: ["sockhash"] },
  msg_redirect_map: { helper: "bpf_msg_redirect_map", args: 3, mapFirst: false, kinds: ["sockmap"] },
  msg_redirect_hash: { helper: "bpf_msg_redirect_hash", args: 3, mapFirst: false, kinds: ["sockhash"] },
  sk_redirect_map: { helper: "bpf_sk_redirect_map", args: 3, mapFirst: false, kinds: ["sockmap"] },
  sk_redirect_hash: { helper: "bpf_sk_redirect_hash", args: 3, mapFirst: false, kinds: ["sockhash"] },
  sk_storage_get: { helper: "bpf_sk_storage_get", args: 3, mapFirst: true, kinds: ["sk_storage"], value: true },
  sk_storage_delete: { helper: "bpf_sk_storage_delete", args: 1, mapFirst: true, kinds: ["sk_storage"] },
  inode_storage_get: { helper: "bpf_inode_storage_get", args: 3, mapFirst: true, kinds: ["inode_storage"], value: true },
  inode_storage_delete: { helper: "bpf_inode_storage_delete", args: 1, mapFirst: true, kinds: ["inode_storage"] },
  task_storage_get: { helper: "bpf_task_storage_get", args: 3, mapFirst: true, kinds: ["task_storage"], value: true },
  task_storage_delete: { helper: "bpf_task_storage_delete", args: 1, mapFirst: true, kinds: ["task_storage"] },
  cgrp_storage_get: { helper: "bpf_cgrp_storage_get", args: 3, mapFirst: true, kinds: ["cgrp_storage"], value: true },
  cgrp_storage_delete: { helper: "bpf_cgrp_storage_delete", args: 1, mapFirst: true, kinds: ["cgrp_storage"] },
  get_local_storage: { helper: "bpf_get_local_storage", args: 1, mapFirst: true, kinds: ["cgroup_storage", "percpu_cgroup_storage"], value: true },
};

export const MAP_METHODS = new Set([
  "lookup", "lookup_or_init", "lookup_or_try_init", "update", "insert", "delete", "increment", "atomic_increment",
  "get_stackid", "call", "push", "pop", "peek", "redirect_map", "perf_read", "perf_counter_value",
  "check_current_task", "perf_submit", "perf_submit_skb", "ringbuf_output", "ringbuf_reserve", "ringbuf_submit",
  "ringbuf_discard", "ringbuf_query", ...Object.keys(SOCKET_STORAGE_METHODS),
]);

/** Methods whose result is a pointer to a map value. */
export const LOOKUP_METHODS = new Set(["lookup", "lookup_or_init", "lookup_or_try_init"]);

export class MethodError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.COMPILE, message);
  }
}

/**
 * The generated C for a method call. `arg(i)` is the rewritten text of argument i. Throws MethodError for a
 * method that does not apply to the map.
 */
export function methodCode(m: MethodCall, arg: (i: number) => SubText): Piece[] {
  const name = m.map.name;
  const map = `(void *)&${name}`;
  const K = `__tsbcc_key_${name}`;
  const V = `__tsbcc_leaf_${name}`;
  const a = (i: number): Piece[] => ["(", arg(i), ")"];
  const need = (n: number): void => {
    if (m.args.length < n) throw new MethodError(`${m.method}() on map ${name} needs ${n} argument${n === 1 ? "" : "s"}`);
  };
  switch (m.method) {
    case "lookup":
      need(1);
      return [`((${V} *)bpf_map_lookup_elem(${map}, `, ...a(0), "))"];
    case "lookup_or_try_init":
    case "lookup_or_init": {
      need(2);
      const bail = m.method === "lookup_or_init" ? " if (!__tsbcc_l) return 0;" : "";
      return [
        `({ const void *__tsbcc_k = `, ...a(0), `; const void *__tsbcc_i = `, ...a(1),
        `; ${V} *__tsbcc_l = bpf_map_lookup_elem(${map}, __tsbcc_k); if (!__tsbcc_l) { bpf_map_update_elem(${map}, __tsbcc_k, __tsbcc_i, BPF_NOEXIST); __tsbcc_l = bpf_map_lookup_elem(${map}, __tsbcc_k);${bail} } __tsbcc_l; })`,
      ];
    }
    case "update":
    case "insert":
      need(2);
      return [`bpf_map_update_elem(${map}, `, ...a(0), ", ", ...a(1), m.method === "update" ? ", BPF_ANY)" : ", BPF_NOEXIST)"];
    case "delete":
      need(1);
      return [`bpf_map_delete_elem(${map}, `, ...a(0), ")"];
    case "increment":
    case "atomic_increment": {
      need(1);
      const n: Piece[] = m.args.length > 1 ? a(1) : ["1"];
      const add: Piece[] = m.method === "increment" ? ["(*__tsbcc_l) += ", ...n, ";"] : ["lock_xadd(__tsbcc_l, ", ...n, ");"];
      const insert: Piece[] = m.map.insertsOnIncrement
        ? [` else { ${V} __tsbcc_z; __builtin_memset(&__tsbcc_z, 0, sizeof(__tsbcc_z)); __tsbcc_z += `, ...n,
           `; bpf_map_update_elem(${map}, &__tsbcc_k, &__tsbcc_z, BPF_NOEXIST); }`]
        : [];
      return [`({ ${K} __tsbcc_k = `, ...a(0), `; ${V} *__tsbcc_l = bpf_map_lookup_elem(${map}, &__tsbcc_k); if (__tsbcc_l) `, ...add, ...insert, " })"];
    }
    case "get_stackid":
      if (m.map.kind !== "stacktrace") throw new MethodError(`get_stackid only available on stacktrace maps (${name} is ${m.map.kind})`);
      need(2);
      return ["bpf_get_stackid(", ...a(0), `, ${map}, `, ...a(1), ")"];
    case "call":
      need(2);
      return ["bpf_tail_call(", ...a(0), `, ${map}, `, ...a(1), ")"];
    case "push":
      need(2);
      return [`bpf_map_push_elem(${map}, `, ...a(0), ", ", ...a(1), ")"];
    case "pop":
      need(1);
      return [`bpf_map_pop_elem(${map}, `, ...a(0), ")"];
    case "peek":
      need(1);
      return [`bpf_map_peek_elem(${map}, `, ...a(0), ")"];
    case "redirect_map":
      need(2);
      return [`bpf_redirect_map(${map}, `, ...a(0), ", ", ...a(1), ")"];
    case "perf_read":
      need(1);
      return [`bpf_perf_event_read(${map}, `, ...a(0), ")"];
    case "perf_counter_value":
      need(3);
      return [`bpf_perf_event_read_value(${map}, `, ...a(0), ", ", ...a(1), ", ", ...a(2), ")"];
    case "check_current_task":
      need(1);
      return [`bpf_current_task_under_cgroup(${map}, `, ...a(0), ")"];
    // A failed output (buffer full, no reader on this CPU) or reserve also bumps the output's hidden per-CPU drop
    // counter, which BPF_PERF_OUTPUT / BPF_RINGBUF_OUTPUT declare beside it: the reader then knows every loss as
    // soon as it happens (the kernel reports a perf loss only when that CPU's buffer is written again). The
    // expression keeps the helper's value and type.
    case "perf_submit":
      need(3);
      return [`({ long __tsbcc_rb = bpf_perf_event_output(`, ...a(0), `, ${map}, BPF_F_CURRENT_CPU, `, ...a(1), ", ", ...a(2),
        `); if (__tsbcc_rb) ${ringbufDrop(name)} __tsbcc_rb; })`];
    case "perf_submit_skb":
      need(4);
      return [`({ long __tsbcc_rb = bpf_perf_event_output(`, ...a(0), `, ${map}, ((__u64)`, ...a(1), " << 32) | BPF_F_CURRENT_CPU, ",
        ...a(2), ", ", ...a(3), `); if (__tsbcc_rb) ${ringbufDrop(name)} __tsbcc_rb; })`];
    case "ringbuf_output":
      need(3);
      return [`({ long __tsbcc_rb = bpf_ringbuf_output(${map}, `, ...a(0), ", ", ...a(1), ", ", ...a(2),
        `); if (__tsbcc_rb) ${ringbufDrop(name)} __tsbcc_rb; })`];
    case "ringbuf_reserve":
      need(1);
      return [`({ void *__tsbcc_rb = bpf_ringbuf_reserve(${map}, `, ...a(0), `, 0); if (!__tsbcc_rb) ${ringbufDrop(name)} __tsbcc_rb; })`];
    case "ringbuf_submit":
      need(2);
      return ["bpf_ringbuf_submit(", ...a(0), ", ", ...a(1), ")"];
    case "ringbuf_discard":
      need(2);
      return ["bpf_ringbuf_discard(", ...a(0), ", ", ...a(1), ")"];
    case "ringbuf_query":
      need(1);
      return [`bpf_ringbuf_query(${map}, `, ...a(0), ")"];
    default:
      return socketStorageCode(m, map, a);
  }
}

/** Local-storage and socket-map methods (SOCKET_STORAGE_METHODS). */
function socketStorageCode(m: MethodCall, map: string, a: (i: number) => Piece[]): Piece[] {
  const name = m.map.name;
  const d = SOCKET_STORAGE_METHODS[m.method];
  if (!d) throw new MethodError(`unknown map method ${m.method} on map ${name}`);
  if (!d.kinds.includes(m.map.kind)) throw new MethodError(`${m.method} only available on ${d.kinds.join("/")} maps (${name} is ${m.map.kind})`);
  if (m.args.length < d.args) throw new MethodError(`${m.method}() on map ${name} needs ${d.args} argument${d.args === 1 ? "" : "s"}`);
  const args: Piece[][] = Array.from({ length: d.args }, (_, i) => a(i));
  args.splice(d.mapFirst ? 0 : 1, 0, [map]);
  const call: Piece[] = [`${d.helper}(`, ...args.flatMap((p, i) => (i ? [", ", ...p] : p)), ")"];
  return d.value ? [`((__tsbcc_leaf_${name} *)`, ...call, ")"] : call;
}

/** The name of the per-CPU drop counter map of output `map` (declared by BPF_PERF_OUTPUT / BPF_RINGBUF_OUTPUT). */
export const outputDropsMap = (map: string): string => `__tsbcc_drops_${map}`;
export const ringbufDropsMap = outputDropsMap;

function ringbufDrop(map: string): string {
  return `{ __u32 __tsbcc_dk = 0; __u64 *__tsbcc_dv = bpf_map_lookup_elem((void *)&${ringbufDropsMap(map)}, &__tsbcc_dk); ` +
    "if (__tsbcc_dv) __sync_fetch_and_add(__tsbcc_dv, 1); }";
}

/** Output methods whose submitted data type is recorded in metadata.events: method -> argument index. */
export const EVENT_ARG: Record<string, number> = { perf_submit: 1, ringbuf_output: 0, ringbuf_submit: 0 };

/** The pointee type text of a submitted pointer argument (`struct data_t`), if it can be named. */
export function submittedType(arg: AstNode): string | undefined {
  let n = arg;
  // Look through implicit conversions to void * and explicit casts to find the user's pointer type.
  for (;;) {
    if ((n.kind === "ImplicitCastExpr" || n.kind === "ParenExpr") && n.inner?.length) {
      n = n.inner[0]!;
      continue;
    }
    break;
  }
  const t = qualType(n).trim();
  const m = /^(.*?)\s*\*$/.exec(t);
  if (!m) return undefined;
  const pointee = m[1]!.replace(/^const\s+|\s+const$/g, "").trim();
  if (!pointee || pointee === "void" || /anonymous|unnamed|[()[\]:]/.test(pointee)) return undefined;
  return pointee;
}
