// hardirqs: time spent in each hard interrupt handler (or counts, or histograms), per interval, from the
// irq:irq_handler_entry/irq_handler_exit tracepoints; handlers are named as the kernel names them.
import { irqTime, irqTimeMain, irqTimeOptions, irqTimePositionals, type IrqKind, type IrqTimeOptions } from "./lib/irq-time.js";
import type { ChosenSource } from "./lib/source.js";
import type { ToolStream } from "./lib/stream.js";
import type { IntervalReport } from "./lib/metrics.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const KIND: IrqKind = {
  tool: "hardirqs",
  sources: [{ kind: "tracepoint", targets: ["irq:irq_handler_entry", "irq:irq_handler_exit"] }],
  kindMember: "char name[32];",
  fillKind: "TP_DATA_LOC_READ_STR(s->kind.name, name, sizeof(s->kind.name));",
  entry: "irq:irq_handler_entry",
  exit: "irq:irq_handler_exit",
  metric: "hardirq",
  label: "hardirq",
  kindName: (k: { name: string }) => k.name,
};

export type HardirqsOptions = IrqTimeOptions;

/** hardirqs as a library: IntervalReports with "hardirq_time" (or "hardirq_events") per handler name. */
export function hardirqs(opts: HardirqsOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  return irqTime(KIND, opts, chosen);
}

export const spec: ToolSpec = {
  name: "hardirqs",
  description: "Summarize hard irq event time as histograms",
  json: "interval",
  sources: KIND.sources,
  options: irqTimeOptions("count"),
  positionals: irqTimePositionals("outputs"),
  examples: [
    ["tsbcc hardirqs", "sum hard irq event time"],
    ["tsbcc hardirqs -d", "show hard irq event time as histograms"],
    ["tsbcc hardirqs 1 10", "print 1 second summaries, 10 times"],
    ["tsbcc hardirqs -NT 1", "1s summaries, nanoseconds, and timestamps"],
    ["tsbcc hardirqs -c 1", "sum hard irq event time on CPU 1 only"],
  ],
};

function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  return irqTimeMain(KIND, "hard", 26, o, run, o.outputs);
}

export const tool: CliTool = { spec, main };
