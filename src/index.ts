// tsbcc's public API. BCC users start with `BPF`; libbpf-style objects load with `BPFObject`.
export { BPF, type BPFLoadOptions, type BPFFunction } from "./api/bpf.js";
export { BPFObject, Program, type BPFObjectOptions } from "./api/object.js";
export { createTable, type AnyTable } from "./api/table-factory.js";
export { Table, HashTable, LruHashTable, LpmTrieTable } from "./api/table.js";
export { TableError, TableKeyError, TableValueError } from "./api/table-errors.js";
export { formatLog2Hist, formatLinearHist, printLog2Hist, printLinearHist } from "./api/histogram.js";
export { traceLines, traceFields, traceReadline, tracePrint } from "./api/tracepipe.js";
export { parseTraceLine } from "./api/tracepipe-parse.js";
export { openPerfBuffer, RingBufferManager } from "./events/index.js";
export { DialectError } from "./dialect/index.js";
export { VerifierError, ProgramLoadError, ObjectError, MapCreateError, ProgType, MapType } from "./loader/index.js";
export { AttachError, type Link } from "./link/index.js";
export { UnknownTracepointError, TracefsError } from "./kernel/tracefs.js";
export { SyscallError } from "./sys/index.js";
export { haveKprobes, haveFentry, haveLsm, haveBtf, haveProgramType, haveMapType } from "./kernel/features.js";
export { tracepointExists, listTracepoints, tracepointFormatPath } from "./kernel/tracefs.js";
export { haveRawTracepoints } from "./kernel/features.js";
