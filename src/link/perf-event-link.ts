// Programs that run from a perf event (tracepoints, kprobe/uprobe PMUs, software events): prefer a BPF link
// over the perf event (kernel >= 5.15), fall back to PERF_EVENT_IOC_SET_BPF. Either way the kernel detaches when
// the fds close.
import { bpf, perf, SyscallError, type Fd } from "../sys/index.js";
import { AttachType } from "../loader/constants.js";
import { Link } from "./link.js";

let linksWork: boolean | undefined;

export function attachToPerfEvent(progFd: number, event: Fd, description: string): Link {
  if (linksWork !== false) {
    try {
      const link = bpf.linkCreate({ progFd, targetFd: event.value, attachType: AttachType.PERF_EVENT });
      linksWork = true;
      return new Link(description, [event, link]);
    } catch (e) {
      // EINVAL: this kernel has no perf-event links. Anything else is a real error for this attach.
      if (!(e instanceof SyscallError) || e.code !== "EINVAL" || linksWork === true) {
        event.close();
        throw e;
      }
      linksWork = false;
    }
  }
  try {
    perf.perfSetBpf(event.value, progFd);
    perf.perfEnable(event.value);
  } catch (e) {
    event.close();
    throw e;
  }
  return new Link(description, [event]);
}
