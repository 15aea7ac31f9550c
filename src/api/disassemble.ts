// BCC's disassemble_func: BPF instructions as text, one line per instruction ("   3: (85) call bpf_map_lookup_elem#1"),
// in the notation of the kernel verifier's log. Helper names come from the running kernel's `enum bpf_func_id`.
import { vmlinuxBtf } from "../kernel/btf.js";

const ALU_OPS: Record<number, string> = {
  0x00: "+=", 0x10: "-=", 0x20: "*=", 0x30: "/=", 0x40: "|=", 0x50: "&=", 0x60: "<<=", 0x70: ">>=", 0x90: "%=", 0xa0: "^=",
  0xb0: "=", 0xc0: "s>>=",
};
const JMP_OPS: Record<number, string> = {
  0x10: "==", 0x20: ">", 0x30: ">=", 0x40: "&", 0x50: "!=", 0x60: "s>", 0x70: "s>=", 0xa0: "<", 0xb0: "<=", 0xc0: "s<", 0xd0: "s<=",
};
const SIZES: Record<number, [string, number]> = { 0x00: ["u32", 32], 0x08: ["u16", 16], 0x10: ["u8", 8], 0x18: ["u64", 64] };
const ATOMIC_OPS: Record<number, string> = { 0x00: "+=", 0x40: "|=", 0x50: "&=", 0xa0: "^=" };

let helperNames: Map<number, string> | undefined;

/** Helper id -> name, from the kernel's BTF (`BPF_FUNC_map_lookup_elem` = 1 -> "bpf_map_lookup_elem"). */
function helperName(id: number): string {
  if (!helperNames) {
    helperNames = new Map();
    try {
      const btf = vmlinuxBtf();
      for (const eid of btf.findIds("enum", "bpf_func_id")) {
        const t = btf.type(eid);
        if (t.kind === "enum") for (const v of t.values) helperNames.set(v.value, v.name.replace(/^BPF_FUNC_/, "bpf_"));
      }
    } catch {
      // No kernel BTF: numbers only.
    }
  }
  return `${helperNames.get(id) ?? "helper"}#${id}`;
}

const hex = (n: number | bigint): string => (n < 0 ? `-0x${(-BigInt(n)).toString(16)}` : `0x${n.toString(16)}`);
const off = (o: number): string => (o < 0 ? `${o}` : `+${o}`);

/** One instruction (and its second slot for 16-byte loads) as text. */
function insnText(v: DataView, at: number, next: DataView | undefined): string {
  const code = v.getUint8(at);
  const regs = v.getUint8(at + 1);
  const dst = regs & 0x0f, src = regs >> 4;
  const o = v.getInt16(at + 2, true), imm = v.getInt32(at + 4, true);
  const cls = code & 0x07, op = code & 0xf0, x = (code & 0x08) !== 0;
  switch (cls) {
    case 0x04: case 0x07: { // ALU, ALU64
      const r = cls === 0x07 ? "r" : "w";
      if (op === 0x80) return `${r}${dst} = -${r}${dst}`;
      if (op === 0xd0) return `${r}${dst} = ${cls === 0x07 ? "bswap" : x ? "be" : "le"}${imm} ${r}${dst}`;
      const sym = (op === 0x30 || op === 0x90) && o === 1 ? `s${ALU_OPS[op]}` : ALU_OPS[op];
      if (!sym) return `invalid alu op 0x${code.toString(16)}`;
      if (op === 0xb0 && o) return `${r}${dst} = (s${o})${r}${src}`;
      return `${r}${dst} ${sym} ${x ? `${r}${src}` : hex(imm)}`;
    }
    case 0x05: case 0x06: { // JMP, JMP32
      const r = cls === 0x05 ? "r" : "w";
      if (op === 0x00) return `goto pc${off(cls === 0x06 ? imm : o)}`;
      if (op === 0x90) return "exit";
      if (op === 0x80) return src === 1 ? `call pc${off(imm)}` : src === 2 ? `call kernel-function#${imm}` : `call ${helperName(imm)}`;
      const sym = JMP_OPS[op];
      return sym ? `if ${r}${dst} ${sym} ${x ? `${r}${src}` : hex(imm)} goto pc${off(o)}` : `invalid jmp op 0x${code.toString(16)}`;
    }
    case 0x01: { // LDX
      const [t] = SIZES[code & 0x18]!;
      return `r${dst} = *(${(code & 0xe0) === 0x80 ? t.replace("u", "s") : t} *)(r${src} ${off(o)})`;
    }
    case 0x02: return `*(${SIZES[code & 0x18]![0]} *)(r${dst} ${off(o)}) = ${hex(imm)}`;
    case 0x03: { // STX
      const [t] = SIZES[code & 0x18]!;
      if ((code & 0xe0) !== 0xc0) return `*(${t} *)(r${dst} ${off(o)}) = r${src}`;
      const fetch = imm & 0x01;
      if (imm === 0xe1) return `r${src} = atomic${t === "u64" ? "64" : ""}_xchg((${t} *)(r${dst} ${off(o)}), r${src})`;
      if (imm === 0xf1) return `r0 = atomic${t === "u64" ? "64" : ""}_cmpxchg((${t} *)(r${dst} ${off(o)}), r0, r${src})`;
      const sym = ATOMIC_OPS[imm & ~1];
      return sym ? `lock *(${t} *)(r${dst} ${off(o)}) ${sym} r${src}${fetch ? " (fetch)" : ""}` : `invalid atomic op ${hex(imm)}`;
    }
    case 0x00: { // LD
      if (code === 0x18) {
        const high = next ? BigInt(next.getUint32(at + 12, true)) : 0n;
        const value = (high << 32n) | BigInt(imm >>> 0);
        if (src === 1) return `r${dst} = map[fd:${imm}]`;
        if (src === 2) return `r${dst} = map[fd:${imm}][0]+${high}`;
        return `r${dst} = ${hex(value)} ll`;
      }
      const [t] = SIZES[code & 0x18]!;
      return (code & 0xe0) === 0x40 ? `r0 = *(${t} *)skb[r${src} + ${imm}]` : `r0 = *(${t} *)skb[${imm}]`;
    }
  }
  return `invalid class ${cls}`;
}

/** BCC's disassemble_func text for `insns` (8-byte instructions). */
export function disassemble(name: string, insns: Uint8Array): string {
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const lines = [`Disassemble of BPF program ${name}:`];
  for (let i = 0; i + 8 <= insns.byteLength; i += 8) {
    const code = v.getUint8(i);
    lines.push(`${String(i / 8).padStart(4)}: (${code.toString(16).padStart(2, "0")}) ${insnText(v, i, i + 16 <= insns.byteLength ? v : undefined)}`);
    if (code === 0x18) i += 8; // the second slot of a 16-byte load
  }
  return lines.join("\n");
}
