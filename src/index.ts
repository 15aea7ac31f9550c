// tsbcc's public API. BCC users start with `BPF`; libbpf-style objects load with `BPFObject`. Everything a user can
// catch is a TsbccError with a stable `code`; every table class is exported with its types.
export { BPF, type BPFLoadOptions, type BPFFunction } from "./api/bpf.js";
export { BPFObject, Program, type BPFObjectOptions } from "./api/object.js";
export * from "./api/tables/index.js";
export { traceLines, traceFields, traceReadline, tracePrint, type TracePrintOptions } from "./api/tracepipe.js";
export { parseTraceLine } from "./api/tracepipe-parse.js";
export { openPerfBuffer, RingBufferManager } from "./events/index.js";
export { TsbccError, ErrorCode, type ErrorCodeName, ArgumentError, NoSuchTableError, NoSuchFunctionError, ClosedError, UnsupportedError } from "./errors.js";
export { ClangError, DialectError, type Diagnostic } from "./dialect/index.js";
export { StoreError } from "./store/private-files.js";
export { TracepointFormatError } from "./dialect/tracepoint-struct.js";
export { VerifierError, ProgramLoadError, ObjectError, MapCreateError, MapDefinitionError, ProgType, MapType, AttachType } from "./loader/index.js";
export { BtfTargetError } from "./loader/btf-target.js";
export { PinError } from "./loader/pin.js";
export { AttachError, type Link } from "./link/index.js";
export { UnknownTracepointError, TracefsError } from "./kernel/tracefs.js";
export { PrivilegeError } from "./kernel/privileges.js";
export { SyscallError } from "./sys/index.js";
// Networking (issue 12): attachments beyond the BPF class's methods, socket/storage tables, test runs.
export {
  NetAttachError, RawSocket, attachXdp, removeXdp, queryXdp, attachTc, tcFilters, tcxPrograms, attachSocketFilter,
  detachSocketFilter, openRawSocket, attachCgroup, attachSockmap, testRun, resolveDevice, CGROUP_HOOKS, SOCKMAP_HOOKS,
  type DeviceRef, type XdpOptions, type XdpState, type TcOptions, type TcFilter, type CgroupHook, type SockmapHook,
  type TestRunOptions, type TestRunResult, type PacketOptions,
} from "./net/index.js";
export { SockMapTable, SockHashTable, StorageTable, type SocketRef } from "./api/tables/net.js";
export { PerfType, PerfSwConfig, PerfSwConfig as PerfSWConfig, PerfHwConfig, PerfHwConfig as PerfHWConfig, PerfSampleFormat } from "./sys/perf.js";
export { BtfError } from "./btf/error.js";
export { ElfError } from "./elf/types.js";
export { haveKprobes, haveFentry, haveFmodRet, haveLsm, haveBtf, haveProgramType, haveMapType, haveRawTracepoints, type FeatureResult } from "./kernel/features.js";
// BCC's module functions: bcc.syscall.syscall_name / syscalls, bcc.utils.get_online_cpus / get_possible_cpus.
export { syscallName, syscallTable } from "./kernel/syscalls.js";
export { onlineCpus as getOnlineCpus, possibleCpus as getPossibleCpus } from "./kernel/cpus.js";
export { Symbolizer, symbolizeStack, symbolizeAddresses, stackAddresses, KernelSymbols, type SymOptions, type SymbolizerOptions, type StackSymOptions } from "./symbols/index.js";
export { USDT, type UsdtProbe, type UsdtLocation, type UsdtArg } from "./usdt/index.js";
export { openPerfCounters, type PerfEventOptions } from "./link/index.js";
export type { PerfEventRawAttr } from "./api/user-probes.js";
export * from "./export/index.js";
export { tracepointExists, listTracepoints, tracepointFormatPath } from "./kernel/tracefs.js";
