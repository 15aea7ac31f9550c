// Where a uprobe's binary is: BCC accepts a path, a library name ("c" -> libc.so.6, found the way `ldconfig -p`
// finds it: the dynamic linker's cache /etc/ld.so.cache), or a program on PATH. With a pid, libraries come from
// that process's own mappings first, and every path is opened through /proc/PID/root so binaries inside a
// container (another mount namespace) resolve to the file the process really runs.
import { accessSync, constants, existsSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, ErrorCode, TsbccError } from "../errors.js";

export const LD_SO_CACHE = "/etc/ld.so.cache";

/** One entry of the linker cache: the soname ("libc.so.6") and the file it resolves to. */
export interface LdCacheEntry {
  name: string;
  path: string;
  /** Entry flags: low byte = kind (3: ELF libc6), next byte = architecture (x86-64: 0x03, aarch64: 0x0a). */
  flags: number;
}

const NEW_MAGIC = "glibc-ld.so.cache1.1";
const OLD_MAGIC = "ld.so-1.7.0";
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
const OLD_ENTRY = 12;

/** Parses ld.so.cache (the glibc >= 2.32 format, alone or after the old format's table). */
export function parseLdCache(bytes: Uint8Array): LdCacheEntry[] {
  const text = (at: number, n: number): string => Buffer.from(bytes.buffer, bytes.byteOffset + at, n).toString("latin1");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  if (bytes.length >= 16 && text(0, OLD_MAGIC.length) === OLD_MAGIC) {
    const oldCount = view.getUint32(12, true);
    start = 16 + oldCount * OLD_ENTRY;
    start = (start + 7) & ~7; // the new table is aligned after the old one
  }
  if (bytes.length < start + NEW_HEADER || text(start, NEW_MAGIC.length) !== NEW_MAGIC) {
    throw new TsbccError(ErrorCode.BAD_ELF, `${LD_SO_CACHE}: not a glibc linker cache in a format tsbcc reads`);
  }
  const count = view.getUint32(start + 20, true);
  const cstr = (off: number): string => {
    const at = start + off;
    const end = bytes.indexOf(0, at);
    return at < bytes.length && end > at ? text(at, end - at) : "";
  };
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = start + NEW_HEADER + i * NEW_ENTRY;
    if (e + NEW_ENTRY > bytes.length) break;
    // Offsets are relative to the new header (which is the start of the file in the pure new format).
    out.push({ flags: view.getInt32(e, true), name: cstr(view.getUint32(e + 4, true)), path: cstr(view.getUint32(e + 8, true)) });
  }
  return out;
}

/** The cache's architecture byte for this process's architecture (libraries of other ABIs are skipped). */
function archFlags(): number | undefined {
  return ({ x64: 0x0303, arm64: 0x0a03 } as Record<string, number>)[process.arch];
}

let cacheMemo: { mtimeMs: number; entries: LdCacheEntry[] } | undefined;
function ldCache(): LdCacheEntry[] {
  try {
    const mtimeMs = statSync(LD_SO_CACHE).mtimeMs;
    if (cacheMemo?.mtimeMs !== mtimeMs) cacheMemo = { mtimeMs, entries: parseLdCache(new Uint8Array(readFileSync(LD_SO_CACHE))) };
    return cacheMemo.entries;
  } catch (e) {
    if (e instanceof TsbccError) throw e;
    return [];
  }
}

/** True when `soname` is the library BCC's short `name` means: "c" matches "libc.so.6" but not "libcap.so.2". */
function nameMatches(soname: string, name: string): boolean {
  if (soname === name) return true;
  const stem = name.startsWith("lib") ? name : `lib${name}`;
  return soname.startsWith(`${stem}.so`) && (soname.length === stem.length + 3 || soname[stem.length + 3] === ".");
}

/** Checks that `pid` is a live process; throws NO_SUCH_PROCESS otherwise. */
export function checkPid(pid: number, argument = "pid"): void {
  if (!Number.isInteger(pid) || pid <= 0) throw new ArgumentError(argument, `must be a positive integer process id, got ${pid}`);
  if (!existsSync(`/proc/${pid}`)) throw new TsbccError(ErrorCode.NO_SUCH_PROCESS, `${argument}: no process ${pid} (it exited, or never existed)`);
}

/** A path as process `pid` sees it, opened through its root (mount namespace); unchanged without a pid. */
export function pathInProcess(path: string, pid?: number): string {
  if (!pid || pid <= 0 || !path.startsWith("/")) return path;
  return `/proc/${pid}/root${path}`;
}

/** File-backed mappings of a process: mapped path -> first mapping's fields. */
export function processMappings(pid: number): { path: string; start: bigint; end: bigint; offset: bigint; perms: string }[] {
  checkPid(pid);
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, "utf8");
  } catch (e) {
    throw new TsbccError(ErrorCode.NO_SUCH_PROCESS, `pid: cannot read /proc/${pid}/maps (${(e as NodeJS.ErrnoException).code})`, { cause: e });
  }
  const out: { path: string; start: bigint; end: bigint; offset: bigint; perms: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \d+\s+(\/.*)$/.exec(line);
    if (!m || m[5]!.endsWith(" (deleted)")) continue;
    out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3]!, offset: BigInt(`0x${m[4]}`), path: m[5]! });
  }
  return out;
}

/**
 * BCC's find_library: the file a library name means, or undefined. With a pid, the process's mapped libraries
 * are searched first (the path returned is then the host-visible /proc/PID/root one).
 */
export function findLibrary(name: string, pid?: number): string | undefined {
  if (typeof name !== "string" || name === "") throw new ArgumentError("name", "must be a non-empty library name");
  if (name.includes("/")) return existsSync(name) ? name : undefined;
  if (pid !== undefined && pid > 0) {
    for (const m of processMappings(pid)) {
      const base = m.path.slice(m.path.lastIndexOf("/") + 1);
      if (nameMatches(base, name)) return pathInProcess(m.path, pid);
    }
  }
  const arch = archFlags();
  const hit = ldCache().find((e) => (arch === undefined || (e.flags & 0xffff) === arch) && nameMatches(e.name, name));
  return hit?.path;
}

/** BCC's find_exe: `name` if it is a path to an executable, else the first executable `name` on PATH. */
export function findExecutable(name: string): string | undefined {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes("/")) return executable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const p = join(dir || ".", name);
    if (executable(p)) return p;
  }
  return undefined;
}

/** Library names in the linker cache close to `name`, for "did you mean". */
function similarLibraries(name: string): string[] {
  const stem = name.replace(/^lib/, "").replace(/\.so.*$/, "");
  const seen = new Set<string>();
  for (const e of ldCache()) {
    const short = e.name.replace(/^lib/, "").replace(/\.so.*$/, "");
    if (short.startsWith(stem.slice(0, 3)) && short.length <= stem.length + 3) seen.add(short);
    if (seen.size >= 5) break;
  }
  return [...seen];
}

/**
 * The file a uprobe/USDT `name` designates: a path (through /proc/PID/root with a pid), a library name, or a
 * program on PATH. Throws NO_SUCH_LIBRARY (with close names) when nothing matches.
 */
export function resolveBinary(name: string, pid?: number): string {
  if (typeof name !== "string" || name === "") throw new ArgumentError("name", "must be a path, a library name or a program name");
  if (pid !== undefined && pid > 0) checkPid(pid);
  if (name.includes("/")) {
    const p = pathInProcess(name, pid);
    if (!existsSync(p)) throw new TsbccError(ErrorCode.NO_SUCH_LIBRARY, `name: ${p} does not exist`);
    return p;
  }
  const lib = findLibrary(name, pid);
  if (lib) return lib;
  const exe = findExecutable(name);
  if (exe) return pathInProcess(exe, undefined);
  const near = similarLibraries(name);
  throw new TsbccError(ErrorCode.NO_SUCH_LIBRARY, `name: no library "${name}" in ${pid ? `process ${pid}'s mappings or ` : ""}` +
    `the linker cache (${LD_SO_CACHE}) and no program of that name on PATH` + (near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(", ")}?` : ""));
}

/** The executable of a running process, as a path this process can open. */
export function processExecutable(pid: number): string {
  checkPid(pid);
  try {
    readlinkSync(`/proc/${pid}/exe`);
  } catch (e) {
    throw new TsbccError(ErrorCode.NO_SUCH_PROCESS, `pid: cannot read /proc/${pid}/exe (${(e as NodeJS.ErrnoException).code}): a kernel thread or an exited process`, { cause: e });
  }
  return `/proc/${pid}/exe`;
}
