// Block device names <-> the kernel's dev_t (MAJOR << 20 | MINOR, as block tracepoints report it), from sysfs.
import { readFileSync, readdirSync } from "node:fs";
import { UsageError } from "./errors.js";
import { ErrorCode, TsbccError } from "../../errors.js";

const MINOR_BITS = 20;
const names = new Map<number, string>();

export function kernelDev(major: number, minor: number): number {
  return ((major << MINOR_BITS) | minor) >>> 0;
}

/** "vda" for vda's kernel dev_t; "?" when unknown. */
export function diskName(dev: number): string {
  const cached = names.get(dev);
  if (cached) return cached;
  const major = dev >>> MINOR_BITS;
  const minor = dev & ((1 << MINOR_BITS) - 1);
  let name = `${major}:${minor}`;
  try {
    const m = /^DEVNAME=(.*)$/m.exec(readFileSync(`/sys/dev/block/${major}:${minor}/uevent`, "utf8"));
    if (m) name = m[1];
  } catch {
    // gone or not a block device
  }
  names.set(dev, name);
  return name;
}

/** The kernel dev_t of a disk by name (e.g. "sda"); throws for an unknown disk. */
export function diskDev(name: string): number {
  let text: string;
  try {
    text = readFileSync(`/sys/class/block/${name}/dev`, "utf8");
  } catch {
    const known = (() => { try { return readdirSync("/sys/class/block").join(", "); } catch { return ""; } })();
    throw new TsbccError(ErrorCode.USAGE, `no disk named '${name}'${known ? ` (disks: ${known})` : ""}`);
  }
  const [major, minor] = text.trim().split(":").map(Number);
  return kernelDev(major, minor);
}

/** `diskDev` for a tool's option: 0 (every disk) without a name, a UsageError naming the tool for an unknown one. */
export function diskFilter(tool: string, name: string | undefined): number {
  if (name === undefined) return 0;
  try {
    return diskDev(name);
  } catch (e) {
    throw new UsageError(tool, (e as Error).message);
  }
}
