// The adapter from the BTF value codec (src/btf/codec.ts) to the tables' KeyValueCodec. Kept this thin on
// purpose: it is the only table file that knows the BTF codec's API.
import { codecFor, typeToString, type Btf } from "../../btf/index.js";
import type { KeyValueCodec } from "./codec.js";

/** A KeyValueCodec for BTF type `typeId` (cached per Btf and id by the BTF layer). */
export function btfCodec<T = unknown>(btf: Btf, typeId: number): KeyValueCodec<T> {
  const codec = codecFor<T>(btf, typeId);
  let cType: string;
  try {
    cType = typeToString(btf, typeId);
  } catch {
    cType = `BTF type ${typeId}`;
  }
  return {
    size: codec.size,
    cType,
    decode: (bytes, offset) => codec.decode(bytes, offset),
    encode: (value, out, offset) => codec.encodeInto(value, out, offset),
  };
}
