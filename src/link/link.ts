// An attachment of a program to a hook. Closing it detaches. Every link is registered for process teardown,
// although the kinds used here (perf events, BPF links, raw tracepoint fds) are also removed by the kernel when
// the process dies.
import { ClosedError, ErrorCode, TsbccError, type ErrorCodeName } from "../errors.js";
import { closeAtExit, type Fd } from "../sys/index.js";

export class Link {
  readonly description: string;
  #fds: Fd[];
  #unregister: () => void;
  #onClose?: () => void;
  constructor(description: string, fds: Fd[], onClose?: () => void) {
    this.description = description;
    this.#fds = fds;
    this.#onClose = onClose;
    this.#unregister = closeAtExit(this);
  }
  #closed = false;
  get closed(): boolean {
    return this.#closed;
  }
  /** Runs `fn` after the link's fds are closed (e.g. removing a tracefs probe the fds used). */
  onClose(fn: () => void): void {
    const prev = this.#onClose;
    this.#onClose = prev ? () => { prev(); fn(); } : fn;
  }
  /** The fd of the attachment itself (the BPF link, or the perf event): for iterators' ITER_CREATE. */
  get fd(): number {
    const last = this.#fds[this.#fds.length - 1];
    if (!last || this.#closed) throw new ClosedError(`${this.description}: link`);
    return last.value;
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Close the BPF link (if any) before the perf event it sits on: reverse creation order.
    for (const fd of this.#fds.reverse()) fd.close();
    this.#fds = [];
    const extra = this.#onClose;
    this.#onClose = undefined;
    extra?.();
    this.#unregister();
  }
  /** close() with the fds closed off the event loop, in the same order (the kernel's RCU wait happens there). */
  async closeAsync(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const fds = this.#fds.reverse();
    this.#fds = [];
    try {
      for (const fd of fds) await fd.closeAsync();
    } finally {
      const extra = this.#onClose;
      this.#onClose = undefined;
      extra?.();
      this.#unregister();
    }
  }
}

/** The attach step failed; `hint` says what the user can do about it. */
export class AttachError extends TsbccError {
  readonly target: string;
  /** `code` defaults to ATTACH; NO_KPROBES / NO_BTF_PROGRAMS / NO_SUCH_TRACEPOINT say why more precisely. */
  constructor(target: string, problem: string, options?: { cause?: unknown; code?: ErrorCodeName }) {
    super(options?.code ?? ErrorCode.ATTACH, `cannot attach to ${target}: ${problem}`, options);
    this.target = target;
  }
}
