// File descriptors owned by objects. close() is explicit; a FinalizationRegistry is only a safety net for
// objects the user forgot. The live set lets tests assert that nothing leaked.
import { ClosedError } from "../errors.js";
import { closeFd, closeFdAsync, dupAboveStdio, dupFd } from "./native.js";

const live = new Map<number, string>();
const finalizer = new FinalizationRegistry<number>((fd) => {
  if (live.delete(fd)) closeFd(fd);
});

export class Fd {
  #fd: number;
  readonly label: string;
  constructor(raw: number, label: string) {
    this.#fd = dupAboveStdio(raw);
    this.label = label;
    live.set(this.#fd, label);
    finalizer.register(this, this.#fd, this);
  }
  /** The raw number; throws once closed so a stale fd is never reused by mistake. */
  get value(): number {
    if (this.#fd < 0) throw new ClosedError(`${this.label}: file descriptor`);
    return this.#fd;
  }
  get closed(): boolean {
    return this.#fd < 0;
  }
  /** Another fd for the same kernel object, owned apart (closing one leaves the other open). */
  dup(label = this.label): Fd {
    return new Fd(dupFd(this.value), label);
  }
  close(): void {
    if (this.#fd < 0) return;
    finalizer.unregister(this);
    live.delete(this.#fd);
    closeFd(this.#fd);
    this.#fd = -1;
  }
  /** close() off the event loop (see closeFdAsync); the Fd reads as closed at once, the number is live until done. */
  async closeAsync(): Promise<void> {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    finalizer.unregister(this);
    this.#fd = -1;
    try {
      await closeFdAsync(fd);
    } finally {
      live.delete(fd);
    }
  }
}

/** Fds currently owned by tsbcc objects, with what they are (for leak checks in tests). */
export function liveFds(): Map<number, string> {
  return new Map(live);
}
