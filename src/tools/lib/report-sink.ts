// What a tool run hands the streams it creates, without the tools passing it along: where its IntervalReports go
// besides the tool's own output (`runTool` sets a sink when exporters are asked for, --prometheus/--otlp, and
// `intervalStream` hands each report to the sink of the run that created it), and the run's error output (where
// `eventStream` reports lost samples). Async-context storage keeps tools unchanged and keeps two runs in one
// process (tests, an embedding program) apart.
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

const errOutputs = new AsyncLocalStorage<TextSink>();

/** Runs `fn` with `err` as the error output of every stream created inside it. */
export function withRunErr<T>(err: TextSink, fn: () => T): T {
  return errOutputs.run(err, fn);
}

/** The error output of the current tool run; process.stderr outside one (a library caller). */
export function currentRunErr(): TextSink {
  return errOutputs.getStore() ?? process.stderr;
}
