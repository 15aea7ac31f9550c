// A small ext4 filesystem on a loop device (mkfs.ext4 on a file, mount -o loop) for filesystem tools' tests, or
// why there cannot be one here (no mkfs.ext4, no loop devices, no ext4 in the kernel).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasTool } from "./build.js";

export interface Ext4Mount {
  dir: string;
  cleanup(): void;
}

export function mountExt4(sizeMb = 32): Ext4Mount | { reason: string } {
  if (!hasTool("mkfs.ext4")) return { reason: "mkfs.ext4 is needed (e2fsprogs)" };
  if (!/\bext4\n/.test(readFileSync("/proc/filesystems", "utf8"))) {
    try { execFileSync("modprobe", ["ext4"], { stdio: "ignore" }); } catch { return { reason: "the kernel has no ext4" }; }
  }
  if (!existsSync("/dev/loop-control")) {
    try { execFileSync("modprobe", ["loop"], { stdio: "ignore" }); } catch { return { reason: "no loop devices (modprobe loop failed)" }; }
  }
  const base = mkdtempSync(join(tmpdir(), "tsbcc-ext4-"));
  const image = join(base, "fs.img");
  const dir = join(base, "mnt");
  try {
    execFileSync("truncate", ["-s", `${sizeMb}M`, image]);
    execFileSync("mkfs.ext4", ["-q", "-F", image], { stdio: "ignore" });
    execFileSync("mkdir", [dir]);
    execFileSync("mount", ["-o", "loop", image, dir], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    return { reason: `cannot mount an ext4 loop image: ${(e as Error).message.split("\n")[0]}` };
  }
  return {
    dir,
    cleanup() {
      try { execFileSync("umount", [dir], { stdio: "ignore" }); } catch { /* already gone */ }
      rmSync(base, { recursive: true, force: true });
    },
  };
}
