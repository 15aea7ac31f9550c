// ELF object -> ObjectSpec. Pure: no syscalls, no dependence on the running kernel, so the same object always
// gives the same spec (and this file is fully unit-testable).
import { ErrorCode, TsbccError } from "../errors.js";
import { ElfFile, ElfError, SHF_EXECINSTR, SHT_PROGBITS, SHT_NOBITS, STT_FUNC, STB_LOCAL, STT_OBJECT } from "../elf/index.js";
import type { ElfSection, ElfSymbol } from "../elf/index.js";
import { classifySection, type SectionKind } from "./sections.js";
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
  if (elf.header.machine !== 247) throw new ObjectError(`not a BPF object (ELF machine ${elf.header.machine}, expected 247 = EM_BPF)`);
  const symbols = elf.symbols();
  const license = readString(elf.section("license")) ?? "";
  const versionSec = elf.section("version");
  const kernVersion = versionSec && versionSec.data.byteLength >= 4
    ? new DataView(versionSec.data.buffer, versionSec.data.byteOffset).getUint32(0, true) : 0;

  const btf = parseObjectBtf(elf, symbols);
  const maps = [...(btf ? mapSpecsFromBtf(btf, elf, symbols) : []), ...legacyMapSpecs(elf, symbols)];
  const dataMaps = new Map<number, MapSpec>();
  for (const s of elf.sections) {
    if ((s.type === SHT_PROGBITS || s.type === SHT_NOBITS) && DATA_SECTION.test(s.name) && s.size > 0) {
      const spec: MapSpec = {
        name: s.name, type: 2 /* ARRAY */, keySize: 4, valueSize: s.size, maxEntries: 1,
        flags: s.name.startsWith(".rodata") ? 1 << 7 /* BPF_F_RDONLY_PROG */ : 0,
        initialData: s.type === SHT_NOBITS ? undefined : s.data.slice(), freeze: s.name.startsWith(".rodata"),
        btfKeyTypeId: 0, btfValueTypeId: btf?.datasecId(s.name) ?? 0,
      };
      dataMaps.set(s.index, spec);
      maps.push(spec);
    }
  }
  const mapBySymbol = new Map<string, MapSpec>(maps.map((m) => [m.name, m]));
  const mapsSection = elf.section(".maps")?.index;
  const legacyMapsSection = elf.section("maps")?.index;

  const globals = new Map<string, { map: string; offset: number; size: number }>();
  for (const sym of symbols) {
    const m = dataMaps.get(sym.sectionIndex);
    if (m && sym.type === STT_OBJECT && sym.name) globals.set(sym.name, { map: m.name, offset: Number(sym.value), size: Number(sym.size) });
  }

  const resolveRelocation = (section: ElfSection, r: { offset: bigint; symbol: ElfSymbol }, insns: Uint8Array, base: number): Relocation => {
    const at = Number(r.offset);
    if (at % INSN_SIZE !== 0 || at >= section.size) throw new ObjectError(`relocation at ${section.name}+${at} is not on an instruction`);
    const insn = (at - base) / INSN_SIZE;
    const sym = r.symbol;
    const opcode = insns[insn * INSN_SIZE];
    const view = new DataView(insns.buffer, insns.byteOffset + insn * INSN_SIZE, INSN_SIZE);
    if (opcode === 0x85) {
      // bpf-to-bpf call: imm is (target - pc - 1) in instructions relative to the symbol (a section symbol plus imm for static functions).
      const target = elf.sections[sym.sectionIndex];
      const imm = view.getInt32(4, true);
      // Static callees are named by their section symbol (value 0) plus imm; global ones by their own symbol.
      const offset = Number(sym.value) + (imm + 1) * INSN_SIZE;
      return { kind: "call", insn, section: target?.name ?? "?", offset };
    }
    if (opcode !== 0x18) throw new ObjectError(`unsupported relocation on opcode 0x${opcode.toString(16)} at ${section.name}+${at} (symbol ${sym.name || "?"})`);
    if (sym.sectionIndex === mapsSection || sym.sectionIndex === legacyMapsSection) {
      const name = sym.name;
      if (!mapBySymbol.has(name)) throw new ObjectError(`program refers to map "${name}" which has no definition`);
      return { kind: "map", insn, map: name };
    }
    const data = dataMaps.get(sym.sectionIndex);
    if (data) {
      const imm = view.getInt32(4, true);
      return { kind: "data", insn, map: data.name, offset: Number(sym.value) + imm };
    }
    const where = elf.sections[sym.sectionIndex]?.name ?? "an undefined section";
    throw new ObjectError(`program refers to symbol "${sym.name}" in ${where}, which is neither a map nor global data` +
      (sym.sectionIndex === 0 ? " (an extern or undefined symbol: kfuncs and __ksym are not supported yet)" : ""));
  };

  const programs: ProgramSpec[] = [];
  const code = new Map<string, CodeSection>();
  for (const section of elf.sections) {
    if (!(section.flags & SHF_EXECINSTR) || section.size === 0) continue;
    const relocs = elf.relocationsFor(section.index);
    const funcs = symbols.filter((s) => s.sectionIndex === section.index && s.type === STT_FUNC)
      .sort((a, b) => Number(a.value - b.value));
    if (section.name === ".text" || section.name.startsWith(".text.")) {
      const insns = section.data.slice();
      code.set(section.name, {
        name: section.name, index: section.index, insns,
        relocations: relocs.map((r) => resolveRelocation(section, r, insns, 0)),
      });
      continue;
    }
    const kind = classifySection(section.name);
    const entries = funcs.filter((f) => f.bind !== STB_LOCAL);
    if (entries.length === 0) throw new ObjectError(`section "${section.name}" has code but no global function symbol`);
    for (let i = 0; i < entries.length; i++) {
      const f = entries[i];
      const start = Number(f.value);
      const end = i + 1 < entries.length ? Number(entries[i + 1].value) : section.size;
      const insns = section.data.slice(start, end);
      const relocations = relocs.filter((r) => Number(r.offset) >= start && Number(r.offset) < end)
        .map((r) => resolveRelocation(section, r, insns, start));
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
