// createTable: the one place that picks a table class for a map type (BCC's table.Table() factory).
import { ErrorCode, TsbccError } from "../../errors.js";
import { MapType, mapTypeName } from "../../sys/abi.js";
import type { Fd } from "../../sys/index.js";
import { rawCodec, type KeyValueCodec } from "./codec.js";
import { ArrayTable, ArrayTableBase } from "./array.js";
import { LruPerCpuHashTable, PerCpuArrayTable, PerCpuHashTable, type Reducer } from "./percpu.js";
import { QueueStackTable } from "./queue.js";
import { PerfEventArrayTable, ProgArrayTable, RingBufTable, StackTraceTable } from "./special.js";
import { createNetTable } from "./net.js";
import { HashTable, LpmTrieTable, LruHashTable, Table, type TableInfo, type TableOptions } from "./table.js";

export interface TableCodecs {
  /** Key codec (from BTF); raw when absent. */
  key?: KeyValueCodec;
  /** Value codec (from BTF); raw when absent. For per-CPU maps: one CPU's value. */
  value?: KeyValueCodec;
}

export interface CreateTableOptions extends TableOptions {
  /** Per-CPU maps: folds the per-CPU values (BCC's reducer=). */
  reducer?: Reducer<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Per-CPU maps: possible CPU count override (tests). */
  ncpus?: number;
}

export type AnyTable = Table | QueueStackTable | RingBufTable;

/** Thrown for map types that have no table class (STRUCT_OPS, ...), like BCC's "Unknown table type". */
export class UnknownTableTypeError extends TsbccError {
  constructor(name: string, mapType: number) {
    super(ErrorCode.UNSUPPORTED, `table "${name}": unknown table type ${mapType} (${mapTypeName(mapType)})`);
  }
}

function sized(name: string, what: "key" | "value", codec: KeyValueCodec | undefined, size: number): KeyValueCodec {
  if (!codec) return rawCodec(size);
  if (codec.size !== size) {
    throw new TsbccError(ErrorCode.BAD_ARGUMENT, `table "${name}": ${what} type ${codec.cType ?? ""} is ${codec.size} bytes but the map's ${what}_size is ${size}`);
  }
  return codec;
}

export function createTable(info: TableInfo, fd: Fd, codecs: TableCodecs = {}, options: CreateTableOptions = {}): AnyTable {
  const key = () => sized(info.name, "key", codecs.key, info.keySize);
  const value = () => sized(info.name, "value", codecs.value, info.valueSize);
  switch (info.mapType) {
    case MapType.HASH:
    case MapType.HASH_OF_MAPS:
      return new HashTable(info, fd, key(), value(), options);
    case MapType.LRU_HASH:
      return new LruHashTable(info, fd, key(), value(), options);
    case MapType.LPM_TRIE:
      return new LpmTrieTable(info, fd, key(), value(), options);
    case MapType.ARRAY:
      return new ArrayTable(info, fd, value(), options);
    case MapType.PERCPU_HASH:
      return new PerCpuHashTable(info, fd, key(), value(), options);
    case MapType.LRU_PERCPU_HASH:
      return new LruPerCpuHashTable(info, fd, key(), value(), options);
    case MapType.PERCPU_ARRAY:
      return new PerCpuArrayTable(info, fd, value(), options);
    case MapType.PROG_ARRAY:
      return new ProgArrayTable(info, fd, options);
    case MapType.PERF_EVENT_ARRAY:
      return new PerfEventArrayTable(info, fd, options);
    case MapType.STACK_TRACE:
      return new StackTraceTable(info, fd, options);
    case MapType.CGROUP_ARRAY:
    case MapType.DEVMAP:
    case MapType.CPUMAP:
    case MapType.XSKMAP:
    case MapType.ARRAY_OF_MAPS:
      return new ArrayTableBase(info, fd, value(), options);
    case MapType.QUEUE:
    case MapType.STACK:
      return new QueueStackTable(info, fd, value());
    case MapType.RINGBUF:
      return new RingBufTable(info, fd);
    default: {
      // socket maps and local storage (src/api/tables/net.ts)
      const net = createNetTable(info, fd, codecs, options);
      if (net) return net;
      throw new UnknownTableTypeError(info.name, info.mapType);
    }
  }
}
