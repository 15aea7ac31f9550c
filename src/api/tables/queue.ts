// QUEUE and STACK maps: no keys, values go in with push and come out with pop (FIFO for QUEUE, LIFO for STACK).
//
// BCC raises KeyError from pop()/peek() on an empty map; here they return undefined, the TypeScript idiom for
// "nothing there" (as Map.get does). Anything else the kernel refuses still throws.
import { ErrorCode, TsbccError } from "../../errors.js";
import { bpf, SyscallError, type Fd } from "../../sys/index.js";
import type { KeyValueCodec } from "./codec.js";
import { TableValueError } from "./errors.js";
import type { TableInfo } from "./table.js";

/** push() flags: "exist" (BPF_EXIST) makes a full queue/stack drop its oldest element to make room. */
export type PushFlag = "any" | "exist" | number;

/* eslint-disable @typescript-eslint/no-explicit-any */
export class QueueStackTable<V = any> {
  /** BPF_EXIST, BCC's QueueStack.BPF_EXIST. */
  static readonly BPF_EXIST = 2;
  readonly name: string;
  readonly mapType: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly fd: Fd;
  private readonly codec: KeyValueCodec<V>;
  private readonly buf: Uint8Array;

  constructor(info: TableInfo, fd: Fd, value: KeyValueCodec<V>) {
    if (value.size !== info.valueSize) {
      throw new TsbccError(ErrorCode.BAD_ARGUMENT, `table "${info.name}": value codec is ${value.size} bytes but the map's value_size is ${info.valueSize}`);
    }
    this.name = info.name;
    this.mapType = info.mapType;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
    this.fd = fd;
    this.codec = value;
    this.buf = new Uint8Array(info.valueSize);
  }

  getFd(): number {
    return this.fd.value;
  }

  private fail(err: unknown): never {
    if (err instanceof SyscallError) throw new SyscallError(err.syscall, err.errno, `table "${this.name}"`);
    throw err;
  }

  /** Adds a value; throws when full unless flags is "exist". */
  push(value: V, flags: PushFlag = "any"): void {
    const buf = new Uint8Array(this.valueSize);
    if (value instanceof Uint8Array && value.byteLength === this.valueSize) buf.set(value);
    else {
      try {
        this.codec.encode(value, buf, 0);
      } catch (err) {
        throw new TableValueError(this.name, `${this.codec.cType ?? "value"} (${this.valueSize} bytes)`, value,
          (err as Error)?.message, { cause: err });
      }
    }
    const f = flags === "any" ? 0 : flags === "exist" ? QueueStackTable.BPF_EXIST : flags;
    try {
      bpf.mapUpdate(this.fd.value, null, buf, f);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Removes and returns the next value; undefined when empty. */
  pop(): V | undefined {
    try {
      return bpf.mapLookupAndDelete(this.fd.value, null, this.buf) ? this.codec.decode(this.buf, 0) : undefined;
    } catch (err) {
      this.fail(err);
    }
  }

  /** The next value without removing it; undefined when empty. */
  peek(): V | undefined {
    try {
      return bpf.mapLookup(this.fd.value, null, this.buf) ? this.codec.decode(this.buf, 0) : undefined;
    } catch (err) {
      this.fail(err);
    }
  }

  /** Pops values until the map is empty (at most maxEntries), like BCC's values()/itervalues(). */
  *values(): IterableIterator<V> {
    for (let i = 0; i < this.maxEntries; i++) {
      const v = this.pop();
      if (v === undefined) return;
      yield v;
    }
  }
}
