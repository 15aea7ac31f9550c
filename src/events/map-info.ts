// Facts about a map fd that the readers need before mapping it: its type and size.
import { bpf } from "../sys/index.js";
export { pageSize } from "../kernel/release.js";

export { MapType } from "../sys/abi.js";
import { mapTypeName } from "../sys/abi.js";

export interface MapBasics {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  name: string;
}

/** struct bpf_map_info's leading fields (type, id, key/value size, max_entries, flags, name[16]). */
export function mapBasics(mapFd: number): MapBasics {
  const info = new Uint8Array(40);
  bpf.objInfo(mapFd, info);
  const v = new DataView(info.buffer);
  const nameBytes = info.subarray(24, 40);
  const nul = nameBytes.indexOf(0);
  return {
    type: v.getUint32(0, true),
    id: v.getUint32(4, true),
    keySize: v.getUint32(8, true),
    valueSize: v.getUint32(12, true),
    maxEntries: v.getUint32(16, true),
    name: new TextDecoder().decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)),
  };
}

export function describeMap(m: MapBasics): string {
  return `map ${m.name ? `"${m.name}" ` : ""}(id ${m.id}, ${mapTypeName(m.type)})`;
}

/** Writes a "possibly lost" notice the way BCC does when no lost callback is set. */
export function reportLost(count: number, where: string): void {
  process.stderr.write(`Possibly lost ${count} samples${where ? ` (${where})` : ""}\n`);
}
