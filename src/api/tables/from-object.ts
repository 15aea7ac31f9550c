// The one table factory of loaded objects: `BPF.table()` and `BPFObject.map()` both come here, so a map gets the
// same class, codecs (from the object's BTF) and error for a missing name whichever front door was used.
import type { LoadedObject } from "../../loader/index.js";
import { NoSuchTableError, TsbccError, ErrorCode } from "../../errors.js";
import { btfCodec } from "./codec-btf.js";
import type { KeyValueCodec } from "./codec.js";
import { createTable, type AnyTable, type CreateTableOptions } from "./factory.js";

/** Maps the user named: not the object's data sections (".bss", ".rodata") nor tsbcc's hidden counters. */
export function userTableNames(obj: LoadedObject): string[] {
  return [...obj.maps.keys()].filter((n) => !n.startsWith(".") && !n.startsWith("__tsbcc_"));
}

/** A typed table over map `name` of `obj`; throws NoSuchTableError (naming the tables there are) when absent. */
export function tableOf(obj: LoadedObject, name: string, options: CreateTableOptions & { what?: string } = {}): AnyTable {
  const m = obj.maps.get(name);
  if (!m) throw new NoSuchTableError(name, userTableNames(obj), options.what);
  const btf = obj.spec.btf?.btf;
  const s = m.spec;
  const codec = (id: number): KeyValueCodec | undefined => (btf && id ? btfCodec(btf, id) : undefined);
  return createTable(
    { name, mapType: s.type, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, flags: s.flags },
    m.fd, { key: codec(s.btfKeyTypeId), value: codec(s.btfValueTypeId) }, options,
  );
}

/** The decoder of C type `typeName` ("struct data_t", "u64", a typedef) in the object's BTF. */
export function typeCodec(obj: LoadedObject, typeName: string, what: string): KeyValueCodec {
  const btf = obj.spec.btf?.btf;
  if (!btf) throw new TsbccError(ErrorCode.BAD_BTF, `${what}: the object has no BTF to decode "${typeName}" with`);
  const [kind, ...rest] = typeName.trim().split(/\s+/);
  const id = kind === "struct" || kind === "union" ? btf.findIds(kind, rest.join(" "))[0] : btf.findIds("typedef", typeName)[0];
  if (!id) throw new TsbccError(ErrorCode.BAD_BTF, `${what}: type "${typeName}" is not in the program's BTF`);
  return btfCodec(btf, id);
}
