// Programs that run from a perf event (tracepoints, kprobe/uprobe PMUs, software events) attach with
// PERF_EVENT_IOC_SET_BPF. The kernel detaches when the perf event fd closes, including when the process dies.
// A BPF link on top of the perf event (LINK_CREATE with BPF_PERF_EVENT) would add nothing we use here and costs a
// second RCU grace period on close (measured: ~90-110 ms to detach with a link, ~60-80 ms without).
import { perf, type Fd } from "../sys/index.js";
import { Link } from "./link.js";

export function attachToPerfEvent(progFd: number, event: Fd, description: string): Link {
  try {
    perf.perfSetBpf(event.value, progFd);
    perf.perfEnable(event.value);
  } catch (e) {
    event.close();
    throw e;
  }
  return new Link(description, [event]);
}
