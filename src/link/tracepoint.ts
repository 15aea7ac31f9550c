import { perf, SyscallError } from "../sys/index.js";
import { tracepointId } from "../kernel/tracefs.js";
import { attachToPerfEvent } from "./perf-event-link.js";
import { AttachError, type Link } from "./link.js";

/** Attaches a TRACEPOINT program to `category:event` (throws UnknownTracepointError for a missing one). */
export function attachTracepoint(progFd: number, category: string, event: string): Link {
  const id = tracepointId(category, event);
  const target = `tracepoint ${category}:${event}`;
  try {
    // One event on CPU 0 with pid -1 covers every CPU for tracepoints; sample_period 1 runs the program on every hit.
    const fd = perf.perfEventOpen({ type: perf.PerfType.TRACEPOINT, config: id, samplePeriod: 1, wakeupEvents: 1 }, -1, 0, target);
    return attachToPerfEvent(progFd, fd, target);
  } catch (e) {
    if (e instanceof SyscallError) throw new AttachError(target, e.message, { cause: e });
    throw e;
  }
}
