// A small filesystem (ext4, xfs, btrfs) on a loop device (mkfs on a file, mount -o loop) for filesystem tools'
// tests, or why there cannot be one here (no mkfs.<type>, no loop devices, the kernel lacks the filesystem).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasTool } from "./build.js";

export interface LoopMount {
  dir: string;
  cleanup(): void;
}
export type Ext4Mount = LoopMount;

/** Smallest image each mkfs accepts comfortably (xfs wants 300 MiB, btrfs 114 MiB); the file is sparse. */
const SIZE_MB: Record<string, number> = { ext4: 32, xfs: 320, btrfs: 128 };
const MKFS_QUIET: Record<string, string[]> = { ext4: ["-q", "-F"], xfs: ["-q", "-f"], btrfs: ["-q", "-f"] };

export function mountLoopFs(type: "ext4" | "xfs" | "btrfs"): LoopMount | { reason: string } {
  const mkfs = `mkfs.${type}`;
  if (!hasTool(mkfs)) return { reason: `${mkfs} is needed` };
  if (!new RegExp(`\\b${type}\\n`).test(readFileSync("/proc/filesystems", "utf8"))) {
    try { execFileSync("modprobe", [type], { stdio: "ignore" }); } catch { return { reason: `the kernel has no ${type}` }; }
  }
  if (!existsSync("/dev/loop-control")) {
    try { execFileSync("modprobe", ["loop"], { stdio: "ignore" }); } catch { return { reason: "no loop devices (modprobe loop failed)" }; }
  }
  const base = mkdtempSync(join(tmpdir(), `tsbcc-${type}-`));
  const image = join(base, "fs.img");
  const dir = join(base, "mnt");
  try {
    execFileSync("truncate", ["-s", `${SIZE_MB[type]}M`, image]);
    execFileSync(mkfs, [...MKFS_QUIET[type], image], { stdio: "ignore" });
    execFileSync("mkdir", [dir]);
    execFileSync("mount", ["-o", "loop", image, dir], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    return { reason: `cannot mount a ${type} loop image: ${(e as Error).message.split("\n")[0]}` };
  }
  return {
    dir,
    cleanup() {
      try { execFileSync("umount", [dir], { stdio: "ignore" }); } catch { /* already gone */ }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export function mountExt4(): LoopMount | { reason: string } {
  return mountLoopFs("ext4");
}
