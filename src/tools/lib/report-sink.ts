// Where a tool run's IntervalReports go besides the tool's own output: `runTool` sets a sink for the run when
// exporters are asked for (--prometheus, --otlp), and `intervalStream` hands each report it yields to the sink of
// the run that created it. Async-context storage keeps tools unchanged (they never see the sink) and keeps two runs
// in one process (tests, an embedding program) apart.
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
