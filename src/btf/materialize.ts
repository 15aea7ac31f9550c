// Builds the type object for one BTF record from the raw words (Btf.type() calls this once per id and caches the
// result): kind-specific decoding, reference checks against the blob's type count, and the older bitfield encoding
// that keeps a member's width in the INT type it points at.
import { BtfError } from "./error.js";
import { checkInt } from "./parse.js";
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, BTF_KIND, type BtfType, type Linkage, type Member } from "./types.js";

/** What decoding needs from the Btf that owns the record (strings, type count, INT records of the base too). */
export interface RecordOwner {
  readonly length: number;
  str(off: number): string;
  intRecord(id: number): { words: Uint32Array; p: number } | undefined;
}

const LINKAGES: readonly Linkage[] = ["static", "global", "extern"];

function ref(btf: RecordOwner, from: number, id: number): number {
  if (id >= btf.length) throw new BtfError(`BTF: type ${from}: reference to type ${id}, only ${btf.length} types`);
  return id;
}

function members(btf: RecordOwner, w: Uint32Array, id: number, p: number, vlen: number, kflag: boolean): Member[] {
  const out: Member[] = new Array(vlen);
  for (let j = 0; j < vlen; j++) {
    const q = p + 3 + j * 3;
    const type = ref(btf, id, w[q + 1]);
    let bitOffset = w[q + 2];
    let bitfieldSize = 0;
    if (kflag) {
      bitfieldSize = bitOffset >>> 24;
      bitOffset &= 0xffffff;
    } else {
      // Older encoding: the bitfield width lives in the INT type the member points at.
      const int = btf.intRecord(type);
      if (int) {
        const size = int.words[int.p + 2];
        const enc = int.words[int.p + 3];
        const bits = enc & 0xff;
        const off = (enc >>> 16) & 0xff;
        if (bits !== size * 8 || off !== 0) {
          bitfieldSize = bits;
          bitOffset += off;
        }
      }
    }
    out[j] = { name: btf.str(w[q]), type, bitOffset, bitfieldSize };
  }
  return out;
}

/** The type object for record `p` (word index in `w`) of type `id`; references are checked against `btf.length`. */
export function materializeType(btf: RecordOwner, w: Uint32Array, id: number, p: number): BtfType {
  const name = btf.str(w[p]);
  const info = w[p + 1];
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = (info & 0x80000000) !== 0;
  const x = w[p + 2];
  if ((info & 0x60ff0000) !== 0) throw new BtfError(`BTF: type ${id}: reserved info bits set`);
  switch (kind) {
    case BTF_KIND.PTR: case BTF_KIND.TYPEDEF: case BTF_KIND.VOLATILE: case BTF_KIND.CONST: case BTF_KIND.RESTRICT:
    case BTF_KIND.FUNC: case BTF_KIND.TYPE_TAG: case BTF_KIND.VAR: case BTF_KIND.DECL_TAG: case BTF_KIND.FUNC_PROTO:
      ref(btf, id, x);
      break;
    case BTF_KIND.ARRAY:
      ref(btf, id, w[p + 3]);
      ref(btf, id, w[p + 4]);
      break;
  }
  switch (kind) {
    case BTF_KIND.INT: {
      const enc = w[p + 3];
      checkInt(id, x, enc);
      const e = enc >>> 24;
      return {
        id, kind: "int", name, size: x, bits: enc & 0xff, bitOffset: (enc >>> 16) & 0xff,
        signed: (e & BTF_INT_SIGNED) !== 0, char: (e & BTF_INT_CHAR) !== 0, bool: (e & BTF_INT_BOOL) !== 0,
      };
    }
    case BTF_KIND.PTR: return { id, kind: "ptr", name, type: x };
    case BTF_KIND.ARRAY: return { id, kind: "array", name, type: w[p + 3], indexType: w[p + 4], nelems: w[p + 5] };
    case BTF_KIND.STRUCT: return { id, kind: "struct", name, size: x, members: members(btf, w, id, p, vlen, kflag) };
    case BTF_KIND.UNION: return { id, kind: "union", name, size: x, members: members(btf, w, id, p, vlen, kflag) };
    case BTF_KIND.ENUM: {
      const values = new Array(vlen);
      for (let j = 0; j < vlen; j++) {
        const raw = w[p + 4 + j * 2];
        values[j] = { name: btf.str(w[p + 3 + j * 2]), value: kflag ? raw | 0 : raw };
      }
      return { id, kind: "enum", name, size: x, signed: kflag, values };
    }
    case BTF_KIND.ENUM64: {
      const values = new Array(vlen);
      for (let j = 0; j < vlen; j++) {
        const q = p + 3 + j * 3;
        const u = (BigInt(w[q + 2]) << 32n) | BigInt(w[q + 1]);
        values[j] = { name: btf.str(w[q]), value: kflag ? BigInt.asIntN(64, u) : u };
      }
      return { id, kind: "enum64", name, size: x, signed: kflag, values };
    }
    case BTF_KIND.FWD: return { id, kind: "fwd", name, fwdKind: kflag ? "union" : "struct" };
    case BTF_KIND.TYPEDEF: return { id, kind: "typedef", name, type: x };
    case BTF_KIND.VOLATILE: return { id, kind: "volatile", name, type: x };
    case BTF_KIND.CONST: return { id, kind: "const", name, type: x };
    case BTF_KIND.RESTRICT: return { id, kind: "restrict", name, type: x };
    case BTF_KIND.TYPE_TAG: return { id, kind: "type_tag", name, type: x };
    case BTF_KIND.FUNC: {
      const linkage = LINKAGES[vlen];
      if (!linkage) throw new BtfError(`BTF: func ${id}: bad linkage ${vlen}`);
      return { id, kind: "func", name, type: x, linkage };
    }
    case BTF_KIND.FUNC_PROTO: {
      const params = [];
      let variadic = false;
      for (let j = 0; j < vlen; j++) {
        const q = p + 3 + j * 2;
        if (j === vlen - 1 && w[q] === 0 && w[q + 1] === 0) variadic = true;
        else params.push({ name: btf.str(w[q]), type: ref(btf, id, w[q + 1]) });
      }
      return { id, kind: "func_proto", name, returnType: x, params, variadic };
    }
    case BTF_KIND.VAR: {
      const linkage = LINKAGES[w[p + 3]];
      if (!linkage) throw new BtfError(`BTF: var ${id}: bad linkage ${w[p + 3]}`);
      return { id, kind: "var", name, type: x, linkage };
    }
    case BTF_KIND.DATASEC: {
      const vars = new Array(vlen);
      for (let j = 0; j < vlen; j++) {
        const q = p + 3 + j * 3;
        vars[j] = { type: ref(btf, id, w[q]), offset: w[q + 1], size: w[q + 2] };
      }
      return { id, kind: "datasec", name, size: x, vars };
    }
    case BTF_KIND.FLOAT: return { id, kind: "float", name, size: x };
    case BTF_KIND.DECL_TAG: return { id, kind: "decl_tag", name, type: x, componentIdx: w[p + 3] | 0 };
    default:
      throw new BtfError(`BTF: type ${id}: unknown kind ${kind}`);
  }
}
