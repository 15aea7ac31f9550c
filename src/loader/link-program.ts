// Turns a ProgramSpec into the final instruction stream: appends the bpf-to-bpf callee sections it needs,
// patches calls to point at them, patches map references with map fds, and carries the matching func_info and
// line_info records along with rebased instruction offsets.
import { INSN_SIZE, ObjectError, type ObjectSpec, type ProgramSpec, type Relocation } from "./spec.js";
import { concatLoadRecords, type LoadRecords } from "../btf/ext.js";

const BPF_PSEUDO_MAP_FD = 1, BPF_PSEUDO_MAP_VALUE = 2, BPF_PSEUDO_CALL = 1;

export interface LinkedProgram {
  insns: Uint8Array;
  funcInfo?: LoadRecords;
  lineInfo?: LoadRecords;
  /** For error messages: instruction index -> (section, byte offset in that section). */
  origin(insn: number): { section: string; offset: number };
}

interface Piece {
  section: string;
  /** Byte offset of this piece inside its section. */
  sectionOffset: number;
  /** Instruction index of this piece in the linked program. */
  start: number;
  insns: Uint8Array;
  relocations: Relocation[];
}

export function linkProgram(obj: ObjectSpec, prog: ProgramSpec, mapFd: (name: string) => number): LinkedProgram {
  const pieces: Piece[] = [{ section: prog.section, sectionOffset: prog.offset, start: 0, insns: prog.insns, relocations: prog.relocations }];
  const placed = new Map<string, Piece>();
  let total = prog.insns.byteLength / INSN_SIZE;
  // Breadth-first: a callee section may call into another one.
  for (let i = 0; i < pieces.length; i++) {
    for (const r of pieces[i].relocations) {
      if (r.kind !== "call" || placed.has(r.section)) continue;
      const code = obj.code.get(r.section);
      if (!code) throw new ObjectError(`program "${prog.name}" calls into section "${r.section}", which holds no callable code`);
      const piece: Piece = { section: code.name, sectionOffset: 0, start: total, insns: code.insns, relocations: code.relocations };
      placed.set(code.name, piece);
      pieces.push(piece);
      total += code.insns.byteLength / INSN_SIZE;
    }
  }
  const out = new Uint8Array(total * INSN_SIZE);
  for (const p of pieces) out.set(p.insns, p.start * INSN_SIZE);
  const view = new DataView(out.buffer);
  for (const p of pieces) {
    for (const r of p.relocations) {
      const at = (p.start + r.insn) * INSN_SIZE;
      switch (r.kind) {
        case "map":
          out[at + 1] = (out[at + 1] & 0x0f) | (BPF_PSEUDO_MAP_FD << 4);
          view.setInt32(at + 4, mapFd(r.map), true);
          break;
        case "data":
          out[at + 1] = (out[at + 1] & 0x0f) | (BPF_PSEUDO_MAP_VALUE << 4);
          view.setInt32(at + 4, mapFd(r.map), true);
          view.setInt32(at + INSN_SIZE + 4, r.offset, true);
          break;
        case "call": {
          const callee = placed.get(r.section) ?? pieces.find((x) => x.section === r.section);
          if (!callee) throw new ObjectError(`unresolved call into ${r.section}`);
          const target = callee.start + (r.offset - callee.sectionOffset) / INSN_SIZE;
          out[at + 1] = (out[at + 1] & 0x0f) | (BPF_PSEUDO_CALL << 4);
          view.setInt32(at + 4, target - (p.start + r.insn) - 1, true);
          break;
        }
      }
    }
  }
  const ext = obj.btf?.ext;
  const collect = (which: "funcInfoForLoad" | "lineInfoForLoad"): LoadRecords | undefined =>
    ext && concatLoadRecords(pieces.map((p) =>
      ext[which](p.section, { from: p.sectionOffset, to: p.sectionOffset + p.insns.byteLength, insnBase: p.start })));
  return {
    insns: out,
    funcInfo: collect("funcInfoForLoad"),
    lineInfo: collect("lineInfoForLoad"),
    origin(insn) {
      const p = [...pieces].reverse().find((x) => insn >= x.start) ?? pieces[0];
      return { section: p.section, offset: p.sectionOffset + (insn - p.start) * INSN_SIZE };
    },
  };
}
