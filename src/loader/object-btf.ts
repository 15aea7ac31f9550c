// An object's BTF, made loadable: the raw `.BTF` patched with section sizes and variable offsets, its parsed
// type model (for map definitions and the value codecs), and the per-section func_info/line_info records.
import type { ElfFile, ElfSymbol } from "../elf/index.js";
import { Btf } from "../btf/btf.js";
import { fixupDatasecs } from "../btf/fixup.js";
import { BtfExt } from "../btf/ext.js";

export interface ObjectBtf {
  /** The patched bytes to hand to BTF_LOAD. */
  raw: Uint8Array;
  btf: Btf;
  ext?: BtfExt;
  datasecId(section: string): number | undefined;
}

export function parseObjectBtf(elf: ElfFile, symbols: ElfSymbol[]): ObjectBtf | undefined {
  const sec = elf.section(".BTF");
  if (!sec) return undefined;
  const raw = fixupDatasecs(sec.data, {
    sectionSize: (name) => elf.section(name)?.size,
    variableOffset: (section, variable) => {
      const s = elf.section(section);
      const sym = s && symbols.find((x) => x.sectionIndex === s.index && x.name === variable);
      return sym ? Number(sym.value) : undefined;
    },
  });
  const btf = Btf.parse(raw);
  const extSec = elf.section(".BTF.ext");
  const ext = extSec ? BtfExt.parse(extSec.data, btf) : undefined;
  return {
    raw, btf, ext,
    datasecId: (section) => btf.findIds("datasec", section)[0],
  };
}
