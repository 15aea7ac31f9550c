// Finds the symbols of a module whose own file is stripped: a separate debug file found by build-id
// (`<root>/.build-id/ab/cdef....debug`, build-id checked) or by `.gnu_debuglink` (next to the binary, in its
// `.debug/` folder, or under `<root>/<binary's dir>/`, CRC-32 checked), then MiniDebugInfo (`.gnu_debugdata`,
// an xz-compressed ELF carrying the static symbols that `.dynsym` lacks). `root` defaults to /usr/lib/debug.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as zlib from "node:zlib";
import { ElfFile, SHT_SYMTAB } from "../elf/index.js";
import { openElfForSymbols } from "./elf-image.js";
import { ModuleSymbols } from "./elf-symbols.js";
import { xzDecompress } from "./xz.js";

/** zlib.crc32 exists from Node 20.15; older Node gets the table-driven version. */
const crc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32 ?? crc32Table;

function crc32Table(data: Uint8Array): number {
  let crc = ~0;
  for (let i = 0; i < data.length; i++) {
    crc ^= data[i]!;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

export const DEFAULT_DEBUG_ROOT = "/usr/lib/debug";

export interface DebugSearch {
  /** Root of the debug-file tree (default /usr/lib/debug). */
  debugRoot?: string;
}

function hasSymtab(elf: ElfFile): boolean {
  return elf.sections.some((s) => s.type === SHT_SYMTAB && s.size > 0);
}

function tryOpen(path: string): ElfFile | undefined {
  try {
    return existsSync(path) ? openElfForSymbols(path) : undefined;
  } catch {
    return undefined; // unreadable or malformed debug files are skipped, as if absent
  }
}

/** The debug file for a build-id under `root`, when it exists and carries the same build-id. */
export function debugFileByBuildId(buildId: string, root: string): { elf: ElfFile; path: string } | undefined {
  if (!/^[0-9a-f]{4,}$/.test(buildId)) return undefined;
  const path = join(root, ".build-id", buildId.slice(0, 2), `${buildId.slice(2)}.debug`);
  const elf = tryOpen(path);
  return elf && elf.buildId() === buildId ? { elf, path } : undefined;
}

function debugFileByLink(binaryPath: string, elf: ElfFile, root: string): { elf: ElfFile; path: string } | undefined {
  let link;
  try {
    link = elf.gnuDebuglink();
  } catch {
    return undefined;
  }
  if (!link || link.file.includes("/")) return undefined;
  const dir = dirname(binaryPath);
  for (const path of [join(dir, link.file), join(dir, ".debug", link.file), join(root, dir, link.file)]) {
    if (path === binaryPath || !existsSync(path)) continue;
    let bytes: Uint8Array;
    try {
      const b = readFileSync(path);
      bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch {
      continue;
    }
    if (crc32(bytes) >>> 0 !== link.crc) continue;
    try {
      return { elf: ElfFile.parse(bytes), path };
    } catch {
      continue;
    }
  }
  return undefined;
}

function miniDebugInfo(elf: ElfFile): ElfFile | undefined {
  const s = elf.section(".gnu_debugdata");
  if (!s || s.size === 0) return undefined;
  const bytes = xzDecompress(s.data);
  if (!bytes) return undefined;
  try {
    return ElfFile.parse(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Indexes the functions of the ELF file at `path`, looking for separate symbols when it is stripped.
 * Throws Node's I/O errors or ElfError when `path` itself cannot be read or parsed.
 */
export function loadModuleSymbols(path: string, search: DebugSearch = {}): ModuleSymbols {
  const root = search.debugRoot ?? DEFAULT_DEBUG_ROOT;
  const main = openElfForSymbols(path);
  if (hasSymtab(main)) return ModuleSymbols.build(main);
  const extra: { elf: ElfFile; source: string }[] = [];
  const buildId = main.buildId();
  const debug = (buildId !== undefined ? debugFileByBuildId(buildId, root) : undefined) ?? debugFileByLink(path, main, root);
  if (debug && hasSymtab(debug.elf)) extra.push({ elf: debug.elf, source: `debug file ${debug.path}` });
  else {
    const mini = miniDebugInfo(main);
    if (mini && hasSymtab(mini)) extra.push({ elf: mini, source: "minidebuginfo" });
  }
  return ModuleSymbols.build(main, extra);
}
