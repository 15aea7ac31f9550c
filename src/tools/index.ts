// tsbcc's tools as library functions (`import { execsnoop } from "tsbcc/tools"`): each returns a ToolStream,
// loaded and attached when the promise resolves, yielding typed events (snoopers) or IntervalReports
// (histogram and counter tools). The command-line side of each tool is in the same file (`tool`).
export { execsnoop, type ExecEvent, type ExecsnoopOptions } from "./execsnoop.js";
export { opensnoop, type OpenEvent, type OpensnoopOptions } from "./opensnoop.js";
export { exitsnoop, exitDescription, type ExitEvent, type ExitsnoopOptions } from "./exitsnoop.js";
export { killsnoop, type KillEvent, type KillsnoopOptions } from "./killsnoop.js";
export { syscount, type SyscountOptions } from "./syscount.js";
export { statsnoop, type StatEvent, type StatsnoopOptions } from "./statsnoop.js";
export { biolatency, rwbsFlags, type BiolatencyOptions } from "./biolatency.js";
export { runqlat, type RunqlatOptions } from "./runqlat.js";
export { runqslower, type RunqSlowEvent, type RunqslowerOptions } from "./runqslower.js";
export { cpudist, type CpudistOptions } from "./cpudist.js";
export { softirqs, type SoftirqsOptions } from "./softirqs.js";
export { hardirqs, type HardirqsOptions } from "./hardirqs.js";
export { biosnoop, rwLetter, type BioEvent, type BiosnoopOptions } from "./biosnoop.js";
export { bitesize, type BitesizeOptions } from "./bitesize.js";
export { oomkill, type OomKillEvent, type OomkillOptions } from "./oomkill.js";
export { tcplife, type TcpSessionEvent, type TcplifeOptions } from "./tcplife.js";
export { tcpstates, type TcpStateEvent, type TcpstatesOptions } from "./tcpstates.js";
export { tcpconnect, type TcpConnectEvent, type TcpconnectOptions } from "./tcpconnect.js";
export { tcpaccept, type TcpAcceptEvent, type TcpacceptOptions } from "./tcpaccept.js";
export { drsnoop, type ReclaimEvent, type DrsnoopOptions } from "./drsnoop.js";
export { tcpretrans, type RetransmitEvent, type TcpretransOptions } from "./tcpretrans.js";
export { capable, type CapabilityEvent, type CapableOptions } from "./capable.js";
export { tplist, usdtProbes, parseFormatFields, type TracepointInfo, type TracepointField } from "./tplist.js";
export { mountsnoop, describeMountCall, type MountEvent, type MountsnoopOptions } from "./mountsnoop.js";
export { profile, type ProfileOptions } from "./profile.js";
export { offcputime, type OffcputimeOptions } from "./offcputime.js";
export { funccount, type FunccountOptions } from "./funccount.js";
export { stackcount, type StackcountOptions } from "./stackcount.js";
export { funclatency, type FunclatencyOptions } from "./funclatency.js";
export { gethostlatency, type GethostlatencyOptions, type HostLookupEvent } from "./gethostlatency.js";
export { bashreadline, type BashreadlineOptions, type ReadlineEvent } from "./bashreadline.js";
export { memleak, type MemleakOptions, type MemleakReport, type OutstandingStack } from "./memleak.js";
export { nodestall, type NodestallOptions, type NodestallReport, type Stall } from "./nodestall.js";
export { sslsniff, type SslsniffOptions, type SslEvent } from "./sslsniff.js";
export { runqlen, type RunqlenOptions } from "./runqlen.js";
export { argdist, parseSpecifier, type ArgdistOptions, type ArgdistSpecifier } from "./argdist.js";
export { trace, parseTraceProbe, type TraceOptions, type TraceEvent, type TraceProbe } from "./trace.js";
export type { StackCount } from "./lib/stacks.js";

export type { ToolStream, StreamOptions } from "./lib/stream.js";
export type { IntervalReport, Metric, HistogramMetric, CounterMetric, HistogramSeries, CounterSeries, Bucket, Labels } from "./lib/metrics.js";
export type { ChosenSource, SourceKind, SourceCandidate } from "./lib/source.js";
export { UsageError, NoEventSourceError, ToolProgramError } from "./lib/errors.js";
export { TOOLS, findTool } from "./lib/registry.js";
export { runTool, type CliTool, type ToolContext, type ToolSpec } from "./lib/tool.js";
