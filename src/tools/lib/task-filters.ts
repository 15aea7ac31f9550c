// BCC's --cgroupmap / --mntnsmap: trace only tasks whose cgroup (v2 id, bpf_get_current_cgroup_id) or mount
// namespace (task->nsproxy->mnt_ns->ns.inum, from BTF) is a key of a hash map someone else pinned on bpffs
// (container runtimes fill such maps). The program declares the pinned map with the shape found at the path, so
// the loader's pin support (BPF_TABLE_PINNED -> loader/pin.ts) opens that very map; unlike BCC, a path that holds
// no map, or a map that is not a hash with 8-byte keys, is a usage error instead of a fresh, empty map.
import { readFileSync } from "node:fs";
import { bpf } from "../../sys/index.js";
import { MapType, mapTypeName } from "../../sys/abi.js";
import type { OptionSpec } from "./args.js";
import { UsageError } from "./errors.js";

export interface TaskFilterOptions {
  /** Path of a pinned hash map whose keys (u64) are cgroup v2 ids: only tasks in those cgroups are traced. */
  cgroupMap?: string;
  /** Path of a pinned hash map whose keys (u64) are mount namespace inode numbers: only tasks in those are traced. */
  mntnsMap?: string;
}

/** BCC's two options, with its names and help texts. */
export const taskFilterOptions = (): OptionSpec[] => [
  { name: "cgroupmap", long: "cgroupmap", kind: "value", metavar: "CGROUPMAP", help: "trace cgroups in this BPF map only" },
  { name: "mntnsmap", long: "mntnsmap", kind: "value", metavar: "MNTNSMAP", help: "trace mount namespaces in this BPF map only" },
];

/** The library options from parsed command-line values. */
export function taskFilterValues(o: Record<string, unknown>): TaskFilterOptions {
  return { cgroupMap: o.cgroupmap as string | undefined, mntnsMap: o.mntnsmap as string | undefined };
}

const KEY_SIZE = 8;

interface PinnedShape { valueSize: number; maxEntries: number }

/** The shape of the hash map pinned at `path`; a UsageError naming `option` when there is none or it does not fit. */
export function pinnedFilterMap(tool: string, option: string, path: string): PinnedShape {
  const bad = (why: string): never => { throw new UsageError(tool, `argument ${option}: ${why}`); };
  if (typeof path !== "string" || path === "" || /["\\\n\0]/.test(path)) bad(`not a usable path: ${JSON.stringify(path)}`);
  let fd;
  try {
    fd = bpf.objGet(path, `${option} map`);
  } catch (e) {
    return bad(`no BPF map pinned at ${path} (${(e as Error).message})`);
  }
  try {
    // A pinned program or link opens too: only a map's fdinfo names a map type.
    const fdinfo = readFileSync(`/proc/self/fdinfo/${fd.value}`, "utf8");
    if (!/^map_type:/m.test(fdinfo)) bad(`${path} is a pinned BPF object but not a map`);
    const info = bpf.mapInfo(fd.value);
    if (info.type !== MapType.HASH) bad(`${path} is a map of type ${mapTypeName(info.type)}; a HASH map is needed`);
    if (info.keySize !== KEY_SIZE) bad(`${path} has ${info.keySize}-byte keys; ids are u64 (8-byte keys)`);
    return { valueSize: info.valueSize, maxEntries: info.maxEntries };
  } finally {
    fd.close();
  }
}

function pinnedSetC(name: string, path: string, shape: PinnedShape): string {
  return `struct ${name}_value_t { u8 v[${shape.valueSize}]; };
BPF_TABLE_PINNED("hash", u64, struct ${name}_value_t, ${name}, ${shape.maxEntries}, "${path}");`;
}

/**
 * The C that declares the pinned sets and `static inline int tsbcc_task_filtered(void)`, true when the current
 * task is outside them (always false with no option). Tools call it first in every probe that runs in the
 * traced task's context. Checks the pinned maps now (UsageError).
 */
export function taskFilterC(tool: string, o: TaskFilterOptions): string {
  const decls: string[] = [];
  const checks: string[] = [];
  if (o.cgroupMap !== undefined) {
    decls.push(pinnedSetC("tsbcc_cgroupset", o.cgroupMap, pinnedFilterMap(tool, "--cgroupmap", o.cgroupMap)));
    checks.push(`    u64 cgroup_id = bpf_get_current_cgroup_id();
    if (!tsbcc_cgroupset.lookup(&cgroup_id)) return 1;`);
  }
  if (o.mntnsMap !== undefined) {
    decls.push("#include <linux/sched.h>\n#include <linux/nsproxy.h>");
    decls.push(pinnedSetC("tsbcc_mntnsset", o.mntnsMap, pinnedFilterMap(tool, "--mntnsmap", o.mntnsMap)));
    checks.push(`    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    u64 mntns_id = task->nsproxy->mnt_ns->ns.inum;
    if (!tsbcc_mntnsset.lookup(&mntns_id)) return 1;`);
  }
  return `
${decls.join("\n")}
static inline int tsbcc_task_filtered(void) {
${checks.join("\n")}
    return 0;
}
`;
}

/** The filter C for a tool run without either option (tsbcc_task_filtered() is always false). */
export const NO_TASK_FILTER_C = taskFilterC("", {});
