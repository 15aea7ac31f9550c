// What a tool run hands the streams it creates, without the tools passing it along, keeping two runs in one process
// (tests, an embedding program) apart: where its IntervalReports go besides the tool's own output (`runTool` sets a
// sink in async-context storage when exporters are asked for, --prometheus/--otlp, and `intervalStream` hands each
// report to the sink of the run that created it), and the run's error output (where `eventStream` reports lost
// samples), found through the run's abort signal.
import { AsyncLocalStorage } from "node:async_hooks";
import type { IntervalReport } from "./metrics.js";

export type ReportSink = (report: IntervalReport) => void;

const sinks = new AsyncLocalStorage<ReportSink>();

/** Runs `fn` with `sink` receiving the reports of every interval stream created inside it. */
export function withReportSink<T>(sink: ReportSink, fn: () => T): T {
  return sinks.run(sink, fn);
}

/** The sink of the current tool run, if exporters are on. */
export function currentReportSink(): ReportSink | undefined {
  return sinks.getStore();
}

/** Something text can be written to (a tool run's error output). */
export interface TextSink {
  write(s: string): unknown;
}

/**
 * Each run's error output, keyed by the run's abort signal, which every tool passes to the streams it creates.
 * Not async-context storage: inside one, every await of the run (an event stream's per-event iteration) costs
 * about 2.6x more on Node 20.
 */
const errOutputs = new WeakMap<AbortSignal, TextSink>();

/** Makes `err` the error output of the streams created with `signal` (runTool does this for every run). */
export function setRunErr(signal: AbortSignal, err: TextSink): void {
  errOutputs.set(signal, err);
}

/** The error output of the run whose signal this is; process.stderr otherwise (a library caller). */
export function runErrOf(signal: AbortSignal | undefined): TextSink {
  return (signal && errOutputs.get(signal)) || process.stderr;
}
