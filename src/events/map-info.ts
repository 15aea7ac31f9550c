// Facts about a map fd that the readers need before mapping it: its type and size.
import { bpf } from "../sys/index.js";
export { pageSize } from "../kernel/release.js";

export { MapType } from "../sys/abi.js";
import { mapTypeName } from "../sys/abi.js";

export type MapBasics = bpf.MapInfo;

/** struct bpf_map_info's leading fields (see sys/bpf.ts). */
export const mapBasics = (mapFd: number): MapBasics => bpf.mapInfo(mapFd);

export function describeMap(m: MapBasics): string {
  return `map ${m.name ? `"${m.name}" ` : ""}(id ${m.id}, ${mapTypeName(m.type)})`;
}

/** Writes a "possibly lost" notice the way BCC does when no lost callback is set. */
export function reportLost(count: number, where: string): void {
  process.stderr.write(`Possibly lost ${count} samples${where ? ` (${where})` : ""}\n`);
}
