// Kernel release, version code and page size.
//
// The version code is what a BPF object's `version` section carries and what old kernels
// (before 5.0) compare for kprobe programs. It is derived the way the kernel's own
// KERNEL_VERSION(a, b, c) macro builds it: (a << 16) + (b << 8) + min(c, 255).

import { ErrorCode, TsbccError } from "../errors.js";
import { readFileSync } from "node:fs";
import * as os from "node:os";

export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
}

/** `uname -r` of the running kernel, e.g. `6.1.0-18-amd64`. */
export function kernelRelease(): string {
  return os.release();
}

/**
 * Parse the leading `major.minor[.patch]` of a release string (`6.18.44-fc-v595` → 6, 18, 44).
 * A missing patch level counts as 0. Throws when the string does not start with a version.
 */
export function parseKernelRelease(release: string): KernelVersion {
  const m = /^\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) throw new TsbccError(ErrorCode.KERNEL_DATA, `cannot parse kernel release ${JSON.stringify(release)}`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? 0 : Number(m[3]) };
}

/** KERNEL_VERSION(major, minor, patch); the patch level saturates at 255 like the kernel macro. */
export function kernelVersionCode(v: KernelVersion): number {
  return v.major * 65536 + v.minor * 256 + Math.min(v.patch, 255);
}

/**
 * The version the running kernel reports as LINUX_VERSION_CODE.
 *
 * Distribution kernels often hide the real upstream patch level from `uname -r`:
 * - Ubuntu publishes it in /proc/version_signature (`Ubuntu 5.15.0-91.101-generic 5.15.131`);
 * - Debian puts it in `uname -v` (`#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)`)
 *   while `uname -r` says `6.1.0-18-amd64`.
 * Both are tried before falling back to the release string.
 */
export function runningKernelVersion(): KernelVersion {
  cachedVersion ??= Object.freeze(detectKernelVersion());
  return { ...cachedVersion };
}

let cachedVersion: Readonly<KernelVersion> | undefined;

function detectKernelVersion(): KernelVersion {
  try {
    const sig = readFileSync("/proc/version_signature", "utf8");
    // Format: "<distro> <distro-release> <upstream version>"; the last word is the upstream one.
    const words = sig.trim().split(/\s+/);
    const last = words[words.length - 1];
    if (words.length >= 3 && last !== undefined) return parseKernelRelease(last);
  } catch {
    // Not Ubuntu: fall through.
  }
  const m = /Debian (\d+\.\d+\.\d+)/.exec(os.version());
  if (m?.[1] !== undefined) return parseKernelRelease(m[1]);
  return parseKernelRelease(kernelRelease());
}

/** LINUX_VERSION_CODE of the running kernel (see runningKernelVersion). */
export function linuxVersionCode(): number {
  return kernelVersionCode(runningKernelVersion());
}

/** Page size of the running system in bytes, cached. */
export function pageSize(): number {
  cachedPageSize ??= readAuxvPageSize() ?? archDefaultPageSize();
  return cachedPageSize;
}

let cachedPageSize: number | undefined;

const AT_NULL = 0n;
const AT_PAGESZ = 6n;

// The kernel hands every process its page size in the ELF auxiliary vector (AT_PAGESZ);
// /proc/self/auxv exposes that vector as native-endian (type, value) word pairs. This is the
// exact value libc's getpagesize() returns, without needing a native call.
function readAuxvPageSize(): number | undefined {
  let auxv: Buffer;
  try {
    auxv = readFileSync("/proc/self/auxv");
  } catch {
    return undefined;
  }
  // The word size follows the process ABI; every 64-bit Node.js target has "64" in its name
  // except x64 (x86-64) and s390x.
  const arch: string = process.arch;
  const wordSize = arch === "x64" || arch === "s390x" || arch.includes("64") ? 8 : 4;
  const little = os.endianness() === "LE";
  const read = (off: number): bigint =>
    wordSize === 8
      ? (little ? auxv.readBigUInt64LE(off) : auxv.readBigUInt64BE(off))
      : BigInt(little ? auxv.readUInt32LE(off) : auxv.readUInt32BE(off));
  for (let off = 0; off + 2 * wordSize <= auxv.length; off += 2 * wordSize) {
    const type = read(off);
    if (type === AT_NULL) break;
    if (type === AT_PAGESZ) {
      const value = Number(read(off + wordSize));
      // A page size is a power of two of at least 4 KiB; anything else means we misread the vector.
      if (value >= 4096 && (value & (value - 1)) === 0) return value;
      return undefined;
    }
  }
  return undefined;
}

// Fallback only: x86 always uses 4 KiB; arm64 kernels may be built with 16K/64K pages and
// ppc64 distributions usually use 64 KiB, so auxv is the authority whenever it is readable.
function archDefaultPageSize(): number {
  return process.arch === "ppc64" ? 65536 : 4096;
}
