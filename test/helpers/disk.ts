// The block device under a directory (for I/O tools' tests), or why there is none (tmpfs, overlay, ...).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";

export function diskOf(dir: string): { disk: string } | { reason: string } {
  const dev = statSync(dir).dev;
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & ~0xff);
  const sys = `/sys/dev/block/${major}:${minor}`;
  if (major === 0 || !existsSync(sys)) return { reason: `${dir} is not on a block device (dev ${major}:${minor})` };
  const real = realpathSync(sys);
  const disk = existsSync(`${real}/partition`) ? basename(dirname(real)) : basename(real);
  return { disk };
}

/** `count` synchronous O_DIRECT writes of `bs` bytes to `file` (each one block request), by dd. */
export function directWrites(file: string, count: number, bs = 4096): void {
  execFileSync("dd", ["if=/dev/zero", `of=${file}`, `bs=${bs}`, `count=${count}`, "oflag=direct,dsync"], { stdio: "ignore" });
}

export function readSysfs(path: string): string {
  return readFileSync(path, "utf8").trim();
}
