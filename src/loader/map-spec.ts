// Map definitions from an object: BTF-defined maps in ".maps" (libbpf's `__uint/__type` convention) and the
// legacy `struct bpf_map_def` records in "maps".
import { ErrorCode, TsbccError } from "../errors.js";
import type { ElfFile, ElfSymbol } from "../elf/index.js";
import type { Btf } from "../btf/btf.js";
import type { BtfType } from "../btf/types.js";
import type { ObjectBtf } from "./object-btf.js";

export interface MapSpec {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode?: number;
  mapExtra?: bigint;
  /** 1 = pin by name under the pin root (libbpf's LIBBPF_PIN_BY_NAME). */
  pinning?: number;
  /** Map-in-map: the inner map's definition (used as the template the outer map is created with). */
  inner?: MapSpec;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** Global-data maps: initial contents, and whether to freeze after filling (.rodata). */
  initialData?: Uint8Array;
  freeze?: boolean;
}

export class MapDefinitionError extends TsbccError {
  constructor(map: string, problem: string) {
    super(ErrorCode.BAD_ELF, `map "${map}": ${problem}`);
  }
}

/** `__uint(name, N)` is encoded as `int (*name)[N]`: the number is the array length. */
function uintField(btf: Btf, t: BtfType, map: string, field: string): number {
  const ptr = btf.resolve(t);
  if (ptr.kind !== "ptr") throw new MapDefinitionError(map, `field "${field}" must be declared with __uint()`);
  const arr = btf.resolve(ptr.type);
  if (arr.kind !== "array") throw new MapDefinitionError(map, `field "${field}" must be declared with __uint()`);
  return arr.nelems;
}

function typeField(btf: Btf, t: BtfType, map: string, field: string): { id: number; size: number } {
  const ptr = btf.resolve(t);
  if (ptr.kind !== "ptr") throw new MapDefinitionError(map, `field "${field}" must be declared with __type()`);
  return { id: ptr.type, size: ptr.type === 0 ? 0 : btf.sizeof(ptr.type) };
}

function mapFromStruct(btf: Btf, structId: number, name: string): MapSpec {
  const def = btf.resolve(structId);
  if (def.kind !== "struct") throw new MapDefinitionError(name, "a BTF map definition must be a struct");
  const spec: MapSpec = { name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, btfKeyTypeId: 0, btfValueTypeId: 0 };
  for (const m of def.members) {
    const mt = btf.type(m.type);
    switch (m.name) {
      case "type": spec.type = uintField(btf, mt, name, m.name); break;
      case "max_entries": spec.maxEntries = uintField(btf, mt, name, m.name); break;
      case "map_flags": spec.flags = uintField(btf, mt, name, m.name); break;
      case "numa_node": spec.numaNode = uintField(btf, mt, name, m.name); break;
      case "pinning": spec.pinning = uintField(btf, mt, name, m.name); break;
      case "map_extra": spec.mapExtra = BigInt(uintField(btf, mt, name, m.name)); break;
      case "key_size": spec.keySize = uintField(btf, mt, name, m.name); break;
      case "value_size": spec.valueSize = uintField(btf, mt, name, m.name); break;
      case "key": { const k = typeField(btf, mt, name, m.name); spec.keySize = k.size; spec.btfKeyTypeId = k.id; break; }
      case "value": { const v = typeField(btf, mt, name, m.name); spec.valueSize = v.size; spec.btfValueTypeId = v.id; break; }
      case "values": {
        // __array(values, struct inner_def): an array of pointers to the inner map's definition struct.
        const arr = btf.resolve(mt);
        if (arr.kind !== "array") throw new MapDefinitionError(name, `"values" must be declared with __array()`);
        const ptr = btf.resolve(arr.type);
        if (ptr.kind !== "ptr") throw new MapDefinitionError(name, `"values" must be an array of pointers to a map definition`);
        spec.inner = mapFromStruct(btf, ptr.type, `${name}.inner`);
        break;
      }
      default:
        throw new MapDefinitionError(name, `unknown field "${m.name}" in the map definition`);
    }
  }
  if (!spec.type) throw new MapDefinitionError(name, "no map type (__uint(type, ...)) given");
  if (spec.inner) { spec.valueSize = 4; spec.btfValueTypeId = 0; }
  return spec;
}

export function mapSpecsFromBtf(obtf: ObjectBtf, _elf: ElfFile, _symbols: ElfSymbol[]): MapSpec[] {
  const btf = obtf.btf;
  const sec = btf.findByName("datasec", ".maps");
  if (!sec || sec.kind !== "datasec") return [];
  return sec.vars.map((v) => {
    const variable = btf.type(v.type);
    if (variable.kind !== "var") throw new MapDefinitionError("?", `.maps entry ${v.type} is not a variable`);
    return mapFromStruct(btf, variable.type, variable.name);
  });
}

/** `struct bpf_map_def { u32 type, key_size, value_size, max_entries, map_flags; }` per symbol in "maps". */
export function legacyMapSpecs(elf: ElfFile, symbols: ElfSymbol[]): MapSpec[] {
  const sec = elf.section("maps");
  if (!sec) return [];
  const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  return symbols.filter((s) => s.sectionIndex === sec.index && s.name).map((s) => {
    const at = Number(s.value);
    if (at + 20 > sec.data.byteLength) throw new MapDefinitionError(s.name, "legacy map definition is truncated");
    return {
      name: s.name, type: view.getUint32(at, true), keySize: view.getUint32(at + 4, true),
      valueSize: view.getUint32(at + 8, true), maxEntries: view.getUint32(at + 12, true),
      flags: view.getUint32(at + 16, true), btfKeyTypeId: 0, btfValueTypeId: 0,
    };
  });
}
