// What the --cgroupmap / --mntnsmap tests need: a private bpffs mount, hash maps of u64 ids pinned there by bpftool
// (as a container runtime would make them, not by tsbcc), a cgroup v2 directory, and a shell that waits on stdin
// before exec'ing, so the test can move it into a cgroup (or read its new mount namespace) first.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killedAfterFile } from "./child.js";

export interface Bpffs {
  dir: string;
  /** Pins a new BPF map made by bpftool at `dir/name` holding `ids` (u64 keys); returns its path. */
  pinIdSet(name: string, ids: bigint[], shape?: { type?: string; keySize?: number; valueSize?: number }): string;
  /** Adds `id` to the set pinned at `path` (8-byte keys and values). */
  addId(path: string, id: bigint): void;
  /** Unpins everything and unmounts. */
  done(): void;
}

const hexBytes = (n: bigint, size: number): string[] => {
  const b = Buffer.alloc(size);
  if (size === 8) b.writeBigUInt64LE(n);
  else b.writeUIntLE(Number(n), 0, Math.min(size, 6));
  return [...b].map((x) => x.toString(16).padStart(2, "0"));
};

function update(path: string, id: bigint, keySize: number, valueSize: number): void {
  execFileSync("bpftool", ["map", "update", "pinned", path, "key", "hex", ...hexBytes(id, keySize), "value", "hex", ...hexBytes(1n, valueSize)]);
}

export function mountBpffs(): Bpffs {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-filter-bpffs-"));
  execFileSync("mount", ["-t", "bpf", "bpf", dir]);
  const pins: string[] = [];
  return {
    dir,
    pinIdSet(name, ids, shape = {}) {
      const path = join(dir, name);
      const keySize = shape.keySize ?? 8, valueSize = shape.valueSize ?? 8;
      execFileSync("bpftool", ["map", "create", path, "type", shape.type ?? "hash", "key", String(keySize), "value", String(valueSize),
        "entries", "64", "name", name.slice(0, 15)]);
      pins.push(path);
      for (const id of ids) update(path, id, keySize, valueSize);
      return path;
    },
    addId: (path, id) => update(path, id, 8, 8),
    done() {
      for (const p of pins) if (existsSync(p)) unlinkSync(p);
      execFileSync("umount", [dir]);
      rmdirSync(dir);
    },
  };
}

/** The cgroup v2 mount point, or undefined. */
export function cgroup2Root(): string | undefined {
  const line = readFileSync("/proc/mounts", "utf8").split("\n").find((l) => l.split(" ")[2] === "cgroup2");
  return line?.split(" ")[1];
}

/** A new cgroup v2 directory; `id` is its cgroup id (the directory's inode number). */
export function cgroup2Dir(name: string): { dir: string; id: bigint; remove(): Promise<void> } {
  const root = cgroup2Root();
  if (!root) throw new Error("no cgroup2 mount");
  const dir = join(root, name);
  mkdirSync(dir);
  // Removal waits (briefly) for the processes moved in to be gone: a killed child leaves the cgroup as it is reaped.
  const remove = async (): Promise<void> => {
    for (let i = 0; ; i++) {
      try {
        return rmdirSync(dir);
      } catch (e) {
        if (i >= 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  return { dir, id: BigInt(statSync(dir, { bigint: true }).ino), remove };
}

/** `sh -c 'read x; exec CMD...'` (through `unshare -m` when `newMountNs`): exec happens on `go()`. */
export function waitingShell(cmd: string[], newMountNs = false, stdout: "ignore" | "pipe" = "ignore"): { child: ChildProcess; go(): Promise<void>; mountNs(): Promise<bigint> } {
  const script = `read x; exec ${cmd.map((c) => `'${c}'`).join(" ")}`;
  const argv = newMountNs ? ["unshare", "-m", "sh", "-c", script] : ["sh", "-c", script];
  const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", stdout, "inherit"] });
  const exited = killedAfterFile(child); // a test failing before go() must not leave it holding the file open
  return {
    child,
    go: async () => {
      child.stdin!.end("go\n");
      await exited;
    },
    // unshare execs the shell in the new namespace under the same pid: wait until the pid's namespace differs.
    async mountNs() {
      const ours = readlinkSync("/proc/self/ns/mnt");
      for (let i = 0; i < 200; i++) {
        try {
          if (readlinkSync(`/proc/${child.pid}/ns/mnt`) !== ours) return BigInt(statSync(`/proc/${child.pid}/ns/mnt`, { bigint: true }).ino);
        } catch { /* not yet */ }
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error("the child never entered a new mount namespace");
    },
  };
}
