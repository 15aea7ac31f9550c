// The narrow view of a BPF object that the networking methods need (src/net/bpf-methods.ts `NetHost`): its
// functions, program loading with an expected attach type, its maps and its record of attachments (the same
// Attachments the tracing methods use, so close() detaches networking links too). Kept apart so bpf.ts stays a
// list of one-line delegations.
import type { LoadedObject } from "../loader/index.js";
import type { NetHost } from "../net/bpf-methods.js";
import type { Attachments } from "./attachments.js";

export function netHost(obj: LoadedObject, functions: string[], attach: Attachments): NetHost {
  return {
    functions,
    loadProgram: (name, type, expectedAttachType) =>
      obj.loadProgram(name, type, expectedAttachType === undefined ? {} : { expectedAttachType }).fd.value,
    loadedProgramFd: (name) => obj.loadedProgram(name)?.fd.value,
    map: (name) => {
      const m = obj.maps.get(name);
      return m && { fd: m.fd.value, type: m.spec.type };
    },
    remember: (key, link) => attach.remember(key, link),
    attached: (key) => attach.has(key),
    detach: (key, what) => attach.detach(key, what),
  };
}
