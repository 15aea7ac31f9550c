// BPF iterators (kernel >= 5.8): a TRACING program loaded for `iter/<target>` is linked with
// LINK_CREATE(BPF_TRACE_ITER); each ITER_CREATE on the link gives an fd whose read() runs the program over the
// target's objects (tasks, maps, ...) and returns what it wrote with seq_printf/seq_write.
import { bpf, readFd, SyscallError } from "../sys/index.js";
import { AttachType } from "../sys/abi.js";
import { AttachError, Link } from "./link.js";

export function attachIter(progFd: number, description: string): Link {
  try {
    return new Link(description, [bpf.linkCreate({ progFd, targetFd: 0, attachType: AttachType.TRACE_ITER })]);
  } catch (e) {
    if (e instanceof SyscallError) throw new AttachError(description, e.message, { cause: e });
    throw e;
  }
}

/** Runs the iterator once: a new iterator fd from the link, read to end of file, as text. */
export function readIter(link: Link): string {
  const fd = bpf.iterCreate(link.fd);
  const chunks: Uint8Array[] = [];
  try {
    for (;;) {
      const buf = new Uint8Array(64 * 1024);
      let n: number;
      try {
        n = readFd(fd.value, buf);
      } catch (e) {
        if (e instanceof SyscallError && (e.errnoCode === "EINTR" || e.errnoCode === "EAGAIN")) continue;
        throw e;
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
    }
  } finally {
    fd.close();
  }
  return Buffer.concat(chunks).toString("utf8");
}
