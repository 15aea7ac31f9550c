// ELF object -> ObjectSpec. Pure: no syscalls, no dependence on the running kernel, so the same object always
// gives the same spec (and this file is fully unit-testable).
import { ErrorCode, TsbccError } from "../errors.js";
import { ElfFile, ElfError, EM_BPF, SHF_EXECINSTR, SHT_PROGBITS, SHT_NOBITS, STT_FUNC, STB_LOCAL, STT_OBJECT } from "../elf/index.js";
import type { ElfSection, ElfSymbol } from "../elf/index.js";
import { classifySection, type SectionKind } from "./sections.js";
import { MapFlags, MapType } from "../sys/abi.js";
import { mapSpecsFromBtf, legacyMapSpecs, type MapSpec } from "./map-spec.js";
import { parseObjectBtf, type ObjectBtf } from "./object-btf.js";

export class ObjectError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.BAD_ELF, message);
  }
}

export const INSN_SIZE = 8;

/** A place in a program's instructions that must be patched at load time. */
export type Relocation =
  | { kind: "map"; insn: number; map: string }
  | { kind: "data"; insn: number; map: string; offset: number }
  | { kind: "call"; insn: number; section: string; offset: number };

export interface ProgramSpec {
  name: string;
  section: string;
  sectionIndex: number;
  /** Byte offset of the function inside its section. */
  offset: number;
  kind: SectionKind;
  insns: Uint8Array;
  relocations: Relocation[];
}

/** A section of bpf-to-bpf callable functions (".text" in clang output), appended to programs that call into it. */
export interface CodeSection {
  name: string;
  index: number;
  insns: Uint8Array;
  relocations: Relocation[];
}

export interface ObjectSpec {
  programs: ProgramSpec[];
  maps: MapSpec[];
  /** Sections whose functions are only called (not loaded on their own): by section name. */
  code: Map<string, CodeSection>;
  license: string;
  kernVersion: number;
  btf?: ObjectBtf;
  /** Symbols of global-data sections, for `constants`: name -> where the value lives. */
  globals: Map<string, { map: string; offset: number; size: number }>;
}

const DATA_SECTION = /^\.(data|rodata|bss)(\..*)?$/;

/** Global-data sections (.data, .rodata, .bss) become one-entry ARRAY maps, keyed by section index. */
function dataSectionMaps(elf: ElfFile, btf: ObjectBtf | undefined): Map<number, MapSpec> {
  const dataMaps = new Map<number, MapSpec>();
  for (const s of elf.sections) {
    if ((s.type === SHT_PROGBITS || s.type === SHT_NOBITS) && DATA_SECTION.test(s.name) && s.size > 0) {
      dataMaps.set(s.index, {
        name: s.name, type: MapType.ARRAY, keySize: 4, valueSize: s.size, maxEntries: 1,
        flags: s.name.startsWith(".rodata") ? MapFlags.RDONLY_PROG : 0,
        initialData: s.type === SHT_NOBITS ? undefined : s.data.slice(), freeze: s.name.startsWith(".rodata"),
        btfKeyTypeId: 0, btfValueTypeId: btf?.datasecId(s.name) ?? 0,
      });
    }
  }
  return dataMaps;
}

interface RelocationContext {
  elf: ElfFile;
  mapNames: Set<string>;
  mapsSections: (number | undefined)[];
  dataMaps: Map<number, MapSpec>;
}

const BPF_CALL = 0x85, BPF_LD_IMM64 = 0x18;

/** What one relocation of a code section patches: a map fd, a global-data address, or a bpf-to-bpf call. */
function resolveRelocation(ctx: RelocationContext, section: ElfSection, r: { offset: bigint; symbol: ElfSymbol }, insns: Uint8Array,
  base: number): Relocation {
  const at = Number(r.offset);
  if (at % INSN_SIZE !== 0 || at >= section.size) throw new ObjectError(`relocation at ${section.name}+${at} is not on an instruction`);
  const insn = (at - base) / INSN_SIZE;
  if (insn < 0 || (insn + 1) * INSN_SIZE > insns.byteLength) throw new ObjectError(`relocation at ${section.name}+${at} lies outside its program`);
  const sym = r.symbol;
  const opcode = insns[insn * INSN_SIZE];
  const view = new DataView(insns.buffer, insns.byteOffset + insn * INSN_SIZE, INSN_SIZE);
  if (opcode === BPF_CALL) {
    // bpf-to-bpf call: imm is (target - pc - 1) in instructions relative to the symbol. Static callees are named
    // by their section symbol (value 0) plus imm; global ones by their own symbol.
    const target = ctx.elf.sections[sym.sectionIndex];
    const offset = Number(sym.value) + (view.getInt32(4, true) + 1) * INSN_SIZE;
    return { kind: "call", insn, section: target?.name ?? "?", offset };
  }
  if (opcode !== BPF_LD_IMM64) throw new ObjectError(`unsupported relocation on opcode 0x${opcode!.toString(16)} at ${section.name}+${at} (symbol ${sym.name || "?"})`);
  if (ctx.mapsSections.includes(sym.sectionIndex)) {
    if (!ctx.mapNames.has(sym.name)) throw new ObjectError(`program refers to map "${sym.name}" which has no definition`);
    return { kind: "map", insn, map: sym.name };
  }
  const data = ctx.dataMaps.get(sym.sectionIndex);
  if (data) return { kind: "data", insn, map: data.name, offset: Number(sym.value) + view.getInt32(4, true) };
  const where = ctx.elf.sections[sym.sectionIndex]?.name ?? "an undefined section";
  throw new ObjectError(`program refers to symbol "${sym.name}" in ${where}, which is neither a map nor global data` +
    (sym.sectionIndex === 0 ? " (an extern or undefined symbol: kfuncs and __ksym are not supported yet)" : ""));
}

export function parseObject(input: Uint8Array): ObjectSpec {
  // A Node Buffer's slice() shares memory; normalize to a plain Uint8Array so every slice below is a copy.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  let elf: ElfFile;
  try {
    elf = ElfFile.parse(bytes);
  } catch (e) {
    if (e instanceof ElfError) throw new ObjectError(`not a valid BPF object: ${e.message}`);
    throw e;
  }
  if (elf.header.machine !== EM_BPF) throw new ObjectError(`not a BPF object (ELF machine ${elf.header.machine}, expected ${EM_BPF} = EM_BPF)`);
  const symbols = elf.symbols();
  const license = readString(elf.section("license")) ?? "";
  const versionSec = elf.section("version");
  const kernVersion = versionSec && versionSec.data.byteLength >= 4
    ? new DataView(versionSec.data.buffer, versionSec.data.byteOffset).getUint32(0, true) : 0;

  const btf = parseObjectBtf(elf, symbols);
  const dataMaps = dataSectionMaps(elf, btf);
  const maps = [...(btf ? mapSpecsFromBtf(btf, elf, symbols) : []), ...legacyMapSpecs(elf, symbols), ...dataMaps.values()];
  const ctx: RelocationContext = {
    elf, dataMaps, mapNames: new Set(maps.map((m) => m.name)), mapsSections: [elf.section(".maps")?.index, elf.section("maps")?.index],
  };
  const globals = new Map<string, { map: string; offset: number; size: number }>();
  for (const sym of symbols) {
    const m = dataMaps.get(sym.sectionIndex);
    if (m && sym.type === STT_OBJECT && sym.name) globals.set(sym.name, { map: m.name, offset: Number(sym.value), size: Number(sym.size) });
  }

  const programs: ProgramSpec[] = [];
  const code = new Map<string, CodeSection>();
  for (const section of elf.sections) {
    if (!(section.flags & SHF_EXECINSTR) || section.size === 0) continue;
    const relocs = elf.relocationsFor(section.index);
    if (section.name === ".text" || section.name.startsWith(".text.")) {
      const insns = section.data.slice();
      code.set(section.name, {
        name: section.name, index: section.index, insns, relocations: relocs.map((r) => resolveRelocation(ctx, section, r, insns, 0)),
      });
      continue;
    }
    const kind = classifySection(section.name);
    const entries = symbols.filter((s) => s.sectionIndex === section.index && s.type === STT_FUNC && s.bind !== STB_LOCAL)
      .sort((a, b) => Number(a.value - b.value));
    if (entries.length === 0) throw new ObjectError(`section "${section.name}" has code but no global function symbol`);
    for (let i = 0; i < entries.length; i++) {
      const f = entries[i]!;
      const start = Number(f.value);
      const end = i + 1 < entries.length ? Number(entries[i + 1]!.value) : section.size;
      const insns = section.data.slice(start, end);
      const relocations = relocs.filter((r) => Number(r.offset) >= start && Number(r.offset) < end)
        .map((r) => resolveRelocation(ctx, section, r, insns, start));
      programs.push({ name: f.name, section: section.name, sectionIndex: section.index, offset: start, kind, insns, relocations });
    }
  }
  return { programs, maps, code, license, kernVersion, btf, globals };
}

function readString(s: ElfSection | undefined): string | undefined {
  if (!s) return undefined;
  const end = s.data.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? s.data.subarray(0, end) : s.data);
}
