export { Link, AttachError } from "./link.js";
export { attachTracepoint } from "./tracepoint.js";
export { attachRawTracepoint, attachBtfProgram } from "./raw-tracepoint.js";
export { attachToPerfEvent } from "./perf-event-link.js";
export { attachKprobe, kprobePmu, type KprobeOptions } from "./kprobe.js";
export { attachKprobeTracefs, removeStaleKprobeEvents, ourKprobeEvents, KPROBE_GROUP, type TracefsKprobeOptions } from "./kprobe-events.js";
export { attachIter, readIter } from "./iter.js";
export { attachUprobe, numOpenUprobes, openUprobeEvent, uprobePmu, parsePmuFormat, type UprobeTarget, type UprobePmu } from "./uprobe.js";
export { attachPerfEvent, openPerfCounters, type PerfEventOptions } from "./perf-event.js";
