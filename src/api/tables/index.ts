// The table family: one class per map type (BCC's table.py), their codecs, the factory and the histogram printers.
export { Table, HashTable, LruHashTable, LpmTrieTable, type TableInfo, type TableOptions, type UpdateFlag, type HistPrintOptions } from "./table.js";
export { ArrayTable, ArrayTableBase } from "./array.js";
export { PerCpuHashTable, LruPerCpuHashTable, PerCpuArrayTable, type Reducer, type PerCpuOptions } from "./percpu.js";
export { QueueStackTable, type PushFlag } from "./queue.js";
export { ProgArrayTable, PerfEventArrayTable, StackTraceTable, RingBufTable, type ProgramRef, type BuildIdFrame, type PerfBufferOptions,
  type PerfBufferCallback, type RingBufferOptions, type RingBufferCallback } from "./special.js";
export { createTable, UnknownTableTypeError, type AnyTable, type TableCodecs, type CreateTableOptions } from "./factory.js";
export { TableError, TableKeyError, TableValueError, CodecError } from "./errors.js";
export { type KeyValueCodec } from "./codec.js";
export { formatLog2Hist, formatLinearHist, formatJsonHist, printLog2Hist, printLinearHist, printJsonHist, type HistData, type HistOptions,
  type PrintHistOptions, type JsonHistOptions, type Count } from "./histogram.js";
