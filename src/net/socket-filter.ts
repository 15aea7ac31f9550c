// Socket filters: a SOCKET_FILTER program on a socket (SO_ATTACH_BPF). BCC's attach_raw_socket opens a packet
// socket bound to one device and puts the program on it; here the socket is a RawSocket whose packets (what
// the program let through, cut to the length it returned) arrive through an async iterator driven by the
// event loop. The filter lives as long as the socket.
import { ArgumentError, ErrorCode, TsbccError } from "../errors.js";
import { closeAtExit, Fd, pollReadable, SyscallError, type PollWatch } from "../sys/index.js";
import { bindSocket, recvFrom, setSockOpt, socketOpen } from "../sys/native.js";
import { ProgType, Sock } from "../sys/abi.js";
import { resolveDevice, type DeviceRef, type NetDevice } from "./device.js";
import { attaching } from "./errors.js";
import { requireProgType } from "./prog-info.js";

const SOCKADDR_LL_SIZE = 20;
const htons = (v: number): number => ((v & 0xff) << 8) | ((v >> 8) & 0xff);

/** Puts a SOCKET_FILTER program on any socket fd (SO_ATTACH_BPF); replaces a filter already there. */
export function attachSocketFilter(progFd: number, socketFd: number): void {
  if (!Number.isInteger(socketFd) || socketFd < 0) throw new ArgumentError("socket", `expected a socket file descriptor, got ${String(socketFd)}`);
  requireProgType(progFd, [ProgType.SOCKET_FILTER], `socket fd ${socketFd}`);
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, progFd, true);
  attaching(`socket fd ${socketFd}`, () => setSockOpt(socketFd, Sock.SOL_SOCKET, Sock.SO_ATTACH_BPF, v, "setsockopt(SO_ATTACH_BPF)"),
    { ENOTSOCK: "not a socket", EBADF: "not an open file descriptor" });
}

/** Takes the filter off a socket (SO_DETACH_FILTER). */
export function detachSocketFilter(socketFd: number): void {
  attaching(`socket fd ${socketFd}`, () => setSockOpt(socketFd, Sock.SOL_SOCKET, Sock.SO_DETACH_FILTER, new Uint8Array(4), "setsockopt(SO_DETACH_FILTER)"));
}

export interface PacketOptions {
  signal?: AbortSignal;
  /** Largest packet kept (longer ones are cut); default 65535. */
  maxSize?: number;
}

/** A packet socket bound to one device, with a socket filter on it. */
export class RawSocket {
  readonly device: NetDevice;
  readonly #fd: Fd;
  readonly #unregister: () => void;
  #watch?: PollWatch;
  #wakeReader?: () => void;

  constructor(device: NetDevice, progFd: number) {
    this.device = device;
    const target = `raw socket on ${device.name}`;
    this.#fd = new Fd(attaching(target, () => socketOpen(Sock.AF_PACKET, Sock.SOCK_RAW | Sock.SOCK_NONBLOCK | Sock.SOCK_CLOEXEC, htons(Sock.ETH_P_ALL))), target);
    try {
      // Filter first, then bind: no unfiltered packet can be queued in between.
      attachSocketFilter(progFd, this.#fd.value);
      const addr = new Uint8Array(SOCKADDR_LL_SIZE);
      const v = new DataView(addr.buffer);
      v.setUint16(0, Sock.AF_PACKET, true);
      v.setUint16(2, htons(Sock.ETH_P_ALL), true);
      v.setInt32(4, device.ifindex, true);
      attaching(target, () => bindSocket(this.#fd.value, addr));
    } catch (e) {
      this.#fd.close();
      throw e;
    }
    this.#unregister = closeAtExit(this);
  }

  /** The socket's fd (for other I/O, e.g. sending). */
  get fd(): number {
    return this.#fd.value;
  }

  get closed(): boolean {
    return this.#fd.closed;
  }

  /** One waiting packet, or undefined when none is queued (non-blocking). */
  receive(maxSize = 65535): Uint8Array | undefined {
    if (this.#fd.closed) throw new TsbccError(ErrorCode.CLOSED, `${this.#fd.label}: socket is closed`);
    const buf = new Uint8Array(maxSize);
    const n = recvFrom(this.#fd.value, buf, 0);
    return n < 0 ? undefined : buf.slice(0, Math.min(n, maxSize));
  }

  /** The packets the filter accepts, as they arrive, until the signal aborts or the socket closes. */
  async *packets(opts: PacketOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const maxSize = opts.maxSize ?? 65535;
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new ArgumentError("maxSize", `expected a positive integer, got ${String(maxSize)}`);
    if (this.#watch) throw new TsbccError(ErrorCode.BAD_ARGUMENT, "packets(): this socket already has a reader");
    let wake: (() => void) | undefined;
    const ready = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    this.#watch = pollReadable(this.#fd.value, ready);
    this.#wakeReader = ready;
    const onAbort = (): void => ready();
    opts.signal?.addEventListener("abort", onAbort);
    try {
      for (;;) {
        if (opts.signal?.aborted || this.#fd.closed) return;
        let p: Uint8Array | undefined;
        try {
          p = this.receive(maxSize);
        } catch (e) {
          if (this.#fd.closed || (e instanceof SyscallError && e.errnoCode === "EBADF")) return;
          throw e;
        }
        if (p) {
          yield p;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      this.#watch?.close();
      this.#watch = undefined;
      this.#wakeReader = undefined;
    }
  }

  close(): void {
    if (this.#fd.closed) return;
    const w = this.#watch;
    this.#watch = undefined;
    w?.close();
    this.#fd.close();
    this.#wakeReader?.();
    this.#unregister();
  }
}

/** BCC's attach_raw_socket: a packet socket on `dev` (name or index) with the program as its filter. */
export function openRawSocket(progFd: number, dev: DeviceRef): RawSocket {
  return new RawSocket(resolveDevice(dev), progFd);
}
