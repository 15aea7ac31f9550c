// A throwaway memory cgroup (v1 memory controller or v2) with a small limit, for tools that watch memory pressure.
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";

export interface MemoryCgroup {
  dir: string;
  /** The file a process writes its pid into to join. */
  procs: string;
  /** Removes the cgroup once its processes are gone (retries briefly). */
  remove(): Promise<void>;
}

export function memoryCgroup(name: string, limitBytes: number): MemoryCgroup | { reason: string } {
  let dir: string;
  if (existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
    dir = `/sys/fs/cgroup/memory/${name}`;
    mkdirSync(dir);
    writeFileSync(`${dir}/memory.limit_in_bytes`, String(limitBytes));
  } else if (existsSync("/sys/fs/cgroup/cgroup.subtree_control")) {
    dir = `/sys/fs/cgroup/${name}`;
    mkdirSync(dir);
    writeFileSync(`${dir}/memory.max`, String(limitBytes));
    writeFileSync(`${dir}/memory.swap.max`, "0");
  } else {
    return { reason: "no memory cgroup controller (v1 memory or v2 with memory)" };
  }
  return {
    dir,
    procs: `${dir}/cgroup.procs`,
    async remove() {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
}
