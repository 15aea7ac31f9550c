// softirqs: time spent in each kind of soft interrupt (or their counts, or histograms), per interval, from the
// irq:softirq_entry/softirq_exit tracepoints; kind names come from the tracepoint's own symbol table.
import { irqTime, irqTimeMain, irqTimeOptions, irqTimePositionals, type IrqKind, type IrqTimeOptions } from "./lib/irq-time.js";
import type { ChosenSource } from "./lib/source.js";
import type { ToolStream } from "./lib/stream.js";
import type { IntervalReport } from "./lib/metrics.js";
import { symbolicNames } from "./lib/tracepoint-symbols.js";
import type { CliTool, ToolRun, ToolSpec } from "./lib/tool.js";

const KIND: IrqKind = {
  tool: "softirqs",
  sources: [{ kind: "tracepoint", targets: ["irq:softirq_entry", "irq:softirq_exit"] }],
  kindMember: "u64 vec;",
  fillKind: "s->kind.vec = args->vec;",
  entry: "irq:softirq_entry",
  exit: "irq:softirq_exit",
  metric: "softirq",
  label: "softirq",
  kindName: (k: { vec: number | bigint }) => (symbolicNames("irq", "softirq_entry", "vec").get(Number(k.vec)) ?? `vec ${k.vec}`).toLowerCase(),
};

export type SoftirqsOptions = IrqTimeOptions;

/** softirqs as a library: IntervalReports with "softirq_time" (or "softirq_events") per softirq kind. */
export function softirqs(opts: SoftirqsOptions = {}, chosen?: ChosenSource): Promise<ToolStream<IntervalReport>> {
  return irqTime(KIND, opts, chosen);
}

export const spec: ToolSpec = {
  name: "softirqs",
  description: "Summarize soft irq event time as histograms.",
  json: "interval",
  sources: KIND.sources,
  options: irqTimeOptions("events"),
  positionals: irqTimePositionals("count"),
  examples: [
    ["tsbcc softirqs", "sum soft irq event time"],
    ["tsbcc softirqs -C", "show the number of soft irq events"],
    ["tsbcc softirqs -d", "show soft irq event time as histograms"],
    ["tsbcc softirqs 1 10", "print 1 second summaries, 10 times"],
    ["tsbcc softirqs -NT 1", "1s summaries, nanoseconds, and timestamps"],
    ["tsbcc softirqs -c 1", "sum soft irq event time on CPU 1 only"],
  ],
};

function main(o: Record<string, any>, run: ToolRun): Promise<number> {
  return irqTimeMain(KIND, "soft", 16, o, run, o.count);
}

export const tool: CliTool = { spec, main };
