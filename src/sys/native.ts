// The one place where tsbcc touches native code. Every syscall the project makes goes through the
// functions exported here, so tests can count fds, and so the rest of the code stays plain TypeScript.
import { ErrorCode, TsbccError, UnsupportedError } from "../errors.js";
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";

const require = createRequire(import.meta.url);
// koffi is CommonJS; loading it lazily keeps `import "tsbcc"` cheap for code paths that never make a syscall.
type Koffi = typeof import("koffi");
let koffiModule: Koffi | undefined;
export function koffi(): Koffi {
  return (koffiModule ??= require("koffi") as Koffi);
}

/** x86-64 syscall numbers. Other architectures would add their own table here. */
export const SYS = { bpf: 321, perf_event_open: 298 } as const;

interface Libc {
  bpf: (nr: number, cmd: number, attr: Uint8Array, size: number) => number;
  perfEventOpen: (nr: number, attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number) => number;
  ioctl: (fd: number, request: number, arg: number | bigint) => number;
  ioctlPtr: (fd: number, request: number, arg: Uint8Array) => number;
  close: (fd: number) => number;
  fcntl: (fd: number, cmd: number, arg: number) => number;
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  munmap: (addr: unknown, len: number) => number;
  read: (fd: number, buf: Uint8Array, len: number) => number;
  epollCreate1: (flags: number) => number;
  epollCtl: (epfd: number, op: number, fd: number, event: Uint8Array | null) => number;
  epollWait: (epfd: number, events: Uint8Array, maxEvents: number, timeoutMs: number) => number;
  socket: (domain: number, type: number, protocol: number) => number;
  bind: (fd: number, addr: Uint8Array, len: number) => number;
  setsockopt: (fd: number, level: number, name: number, val: Uint8Array, len: number) => number;
  getsockopt: (fd: number, level: number, name: number, val: Uint8Array, len: Uint8Array) => number;
  sendto: (fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array | null, addrLen: number) => number;
  recvfrom: (fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array | null, addrLen: Uint8Array | null) => number;
  ifNameToIndex: (name: string) => number;
  setns: (fd: number, nstype: number) => number;
}

let libc: Libc | undefined;
function lib(): Libc {
  if (libc) return libc;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new UnsupportedError(`tsbcc supports Linux on x86-64 only (this is ${process.platform}/${process.arch})`);
  }
  const k = koffi();
  const c = k.load("libc.so.6");
  // glibc's syscall() is variadic; a fixed prototype is ABI-compatible for integer and pointer arguments
  // on x86-64 Linux, and lets us avoid koffi's slower variadic path.
  libc = {
    bpf: c.func("syscall", "long", ["long", "int", "void *", "unsigned int"]) as Libc["bpf"],
    perfEventOpen: c.func("syscall", "long", ["long", "void *", "int", "int", "int", "unsigned long"]) as Libc["perfEventOpen"],
    ioctl: c.func("ioctl", "int", ["int", "unsigned long", "unsigned long"]) as Libc["ioctl"],
    ioctlPtr: c.func("ioctl", "int", ["int", "unsigned long", "void *"]) as Libc["ioctlPtr"],
    close: c.func("close", "int", ["int"]) as Libc["close"],
    fcntl: c.func("fcntl", "int", ["int", "int", "int"]) as Libc["fcntl"],
    mmap: c.func("mmap", "void *", ["void *", "size_t", "int", "int", "int", "long"]) as Libc["mmap"],
    munmap: c.func("munmap", "int", ["void *", "size_t"]) as Libc["munmap"],
    read: c.func("read", "long", ["int", "void *", "size_t"]) as Libc["read"],
    epollCreate1: c.func("epoll_create1", "int", ["int"]) as Libc["epollCreate1"],
    epollCtl: c.func("epoll_ctl", "int", ["int", "int", "int", "void *"]) as Libc["epollCtl"],
    epollWait: c.func("epoll_wait", "int", ["int", "void *", "int", "int"]) as Libc["epollWait"],
    socket: c.func("socket", "int", ["int", "int", "int"]) as Libc["socket"],
    bind: c.func("bind", "int", ["int", "void *", "unsigned int"]) as Libc["bind"],
    setsockopt: c.func("setsockopt", "int", ["int", "int", "int", "void *", "unsigned int"]) as Libc["setsockopt"],
    getsockopt: c.func("getsockopt", "int", ["int", "int", "int", "void *", "void *"]) as Libc["getsockopt"],
    sendto: c.func("sendto", "long", ["int", "void *", "size_t", "int", "void *", "unsigned int"]) as Libc["sendto"],
    recvfrom: c.func("recvfrom", "long", ["int", "void *", "size_t", "int", "void *", "void *"]) as Libc["recvfrom"],
    ifNameToIndex: c.func("if_nametoindex", "unsigned int", ["const char *"]) as Libc["ifNameToIndex"],
    setns: c.func("setns", "int", ["int", "int"]) as Libc["setns"],
  };
  return libc;
}

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** A failed syscall: carries errno, its symbolic code, and which call failed (e.g. "bpf(BPF_PROG_LOAD)"). */
export class SyscallError extends TsbccError {
  readonly errno: number;
  /** The errno's name ("EINVAL", "ENOENT", ...); `code` is PERMISSION for EPERM/EACCES, else SYSCALL. */
  readonly errnoCode: string;
  readonly syscall: string;
  constructor(syscall: string, errno: number, detail?: string) {
    const name = errnoName(errno);
    super(name === "EPERM" || name === "EACCES" ? ErrorCode.PERMISSION : ErrorCode.SYSCALL,
      `${syscall} failed: ${name}${detail ? ` (${detail})` : ""}`);
    this.errno = errno;
    this.errnoCode = name;
    this.syscall = syscall;
  }
}

function lastErrno(): number {
  return koffi().errno();
}

export function rawBpf(cmd: number, attr: Uint8Array, size: number): { ret: number; errno: number } {
  const ret = lib().bpf(SYS.bpf, cmd, attr, size);
  return { ret, errno: ret < 0 ? lastErrno() : 0 };
}

export function rawPerfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number) {
  const ret = lib().perfEventOpen(SYS.perf_event_open, attr, pid, cpu, groupFd, flags);
  return { ret, errno: ret < 0 ? lastErrno() : 0 };
}

export function ioctl(fd: number, request: number, arg: number | bigint | Uint8Array, what = "ioctl"): number {
  const ret = arg instanceof Uint8Array ? lib().ioctlPtr(fd, request, arg) : lib().ioctl(fd, request, arg);
  if (ret < 0) throw new SyscallError(what, lastErrno());
  return ret;
}

export function closeFd(fd: number): void {
  lib().close(fd);
}

/**
 * close(2) on libuv's thread pool (koffi's async call): closing a perf event with a BPF program on it waits for an
 * RCU grace period in the kernel (tens of ms), which must not stall the event loop. Close errors are ignored, as
 * closeFd does.
 */
export function closeFdAsync(fd: number): Promise<void> {
  const close = lib().close as Libc["close"] & { async(fd: number, cb: (err: unknown) => void): void };
  return new Promise((resolve) => close.async(fd, () => resolve()));
}

const F_DUPFD_CLOEXEC = 1030;
/** Moves an fd out of 0-2 so a closed stdin/stdout/stderr can never be handed to the kernel as a BPF object. */
export function dupAboveStdio(fd: number): number {
  if (fd > 2) return fd;
  const moved = lib().fcntl(fd, F_DUPFD_CLOEXEC, 3);
  const err = moved < 0 ? lastErrno() : 0;
  lib().close(fd);
  if (moved < 0) throw new SyscallError("fcntl(F_DUPFD_CLOEXEC)", err);
  return moved;
}

/** A second fd (above stdio, close-on-exec) for the same open file as `fd`. */
export function dupFd(fd: number): number {
  const copy = lib().fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw new SyscallError("fcntl(F_DUPFD_CLOEXEC)", lastErrno());
  return copy;
}

export const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
const MAP_FAILED = -1n;

/** Maps `len` bytes of `fd` and returns the pointer (opaque) plus a zero-copy ArrayBuffer over it. */
export function mmapFd(fd: number, len: number, prot: number, offset: number): { ptr: unknown; buffer: ArrayBuffer } {
  const k = koffi();
  const ptr = lib().mmap(null, len, prot, MAP_SHARED, fd, offset);
  const addr = ptr === null ? 0n : k.address(ptr);
  if (addr === 0n || addr === MAP_FAILED || addr === 0xffffffffffffffffn) throw new SyscallError("mmap", lastErrno());
  return { ptr, buffer: k.view(ptr, len) };
}

export function munmap(ptr: unknown, len: number): void {
  if (lib().munmap(ptr, len) < 0) throw new SyscallError("munmap", lastErrno());
}

/** The address of a Buffer/TypedArray's bytes, for pointer fields inside syscall attribute structs. */
export function addressOf(buf: Uint8Array): bigint {
  if (buf.byteLength === 0) return 0n;
  return koffi().address(buf);
}

export function readFd(fd: number, buf: Uint8Array): number {
  const n = lib().read(fd, buf, buf.byteLength);
  if (n < 0) throw new SyscallError("read", lastErrno());
  return n;
}

/**
 * Readiness of an fd on Node's event loop (libuv poll), without a thread blocked per reader. libuv polls
 * level-triggered. `stop()`/`start()` disarm and re-arm the watch; `unref()` lets the process exit while the
 * watch is armed (and `ref()` undoes it), like a timer's.
 */
export interface PollWatch {
  close(): void;
  stop(): void;
  start(): void;
  ref(): void;
  unref(): void;
}
export function pollReadable(fd: number, onReadable: () => void): PollWatch {
  const callback = () => onReadable();
  const handle = koffi().node.poll(fd, { readable: true }, callback);
  return {
    close: () => handle.close(),
    stop: () => handle.stop(),
    start: () => handle.start({ readable: true }, callback),
    ref: () => handle.ref(),
    unref: () => handle.unref(),
  };
}

export const EPOLLIN = 0x1, EPOLLET = 0x80000000;
export const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2;
const EPOLL_CLOEXEC = 0o2000000;
/** sizeof(struct epoll_event) on x86-64, where the struct is packed: u32 events, u64 data. */
export const EPOLL_EVENT_SIZE = 12;

/** epoll_create1(EPOLL_CLOEXEC); the caller wraps the raw fd in an Fd. */
export function epollCreate(): number {
  const fd = lib().epollCreate1(EPOLL_CLOEXEC);
  if (fd < 0) throw new SyscallError("epoll_create1", lastErrno());
  return fd;
}

/** epoll_ctl: `events` is an EPOLL* mask, `data` the u64 handed back by epoll_wait (we use small integers). */
export function epollCtl(epfd: number, op: number, fd: number, events = 0, data = 0): void {
  const ev = new Uint8Array(EPOLL_EVENT_SIZE);
  const v = new DataView(ev.buffer);
  v.setUint32(0, events >>> 0, true);
  v.setBigUint64(4, BigInt(data), true);
  if (lib().epollCtl(epfd, op, fd, ev) < 0) throw new SyscallError("epoll_ctl", lastErrno());
}

/** epoll_wait into `events` (EPOLL_EVENT_SIZE bytes each); returns how many were filled. EINTR counts as 0. */
export function epollWait(epfd: number, events: Uint8Array, timeoutMs: number): number {
  const n = lib().epollWait(epfd, events, Math.floor(events.byteLength / EPOLL_EVENT_SIZE), timeoutMs);
  if (n >= 0) return n;
  const errno = lastErrno();
  if (errnoName(errno) === "EINTR") return 0;
  throw new SyscallError("epoll_wait", errno);
}

// ---- sockets (networking attachments): netlink requests, packet sockets, SO_ATTACH_BPF.

/** socket(2); the caller wraps the raw fd in an Fd. */
export function socketOpen(domain: number, type: number, protocol: number): number {
  const fd = lib().socket(domain, type, protocol);
  if (fd < 0) throw new SyscallError("socket", lastErrno());
  return fd;
}

export function bindSocket(fd: number, addr: Uint8Array): void {
  if (lib().bind(fd, addr, addr.byteLength) < 0) throw new SyscallError("bind", lastErrno());
}

export function setSockOpt(fd: number, level: number, name: number, value: Uint8Array, what = "setsockopt"): void {
  if (lib().setsockopt(fd, level, name, value, value.byteLength) < 0) throw new SyscallError(what, lastErrno());
}

/** getsockopt(2) into `value`; returns the length the kernel wrote. */
export function getSockOpt(fd: number, level: number, name: number, value: Uint8Array, what = "getsockopt"): number {
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, value.byteLength, true);
  if (lib().getsockopt(fd, level, name, value, len) < 0) throw new SyscallError(what, lastErrno());
  return new DataView(len.buffer).getUint32(0, true);
}

/** sendto(2); `addr` null sends on a connected (or netlink, to the kernel) socket. Returns bytes sent. */
export function sendTo(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array | null): number {
  const n = lib().sendto(fd, buf, buf.byteLength, flags, addr, addr?.byteLength ?? 0);
  if (n < 0) throw new SyscallError("sendto", lastErrno());
  return n;
}

/**
 * recvfrom(2) into `buf`. Returns the length (the full datagram length with MSG_TRUNC), or -1 when a
 * non-blocking socket has nothing (EAGAIN); `from`, when given, receives the sender's address.
 */
export function recvFrom(fd: number, buf: Uint8Array, flags: number, from?: Uint8Array): number {
  let len: Uint8Array | null = null;
  if (from) {
    len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, from.byteLength, true);
  }
  const n = lib().recvfrom(fd, buf, buf.byteLength, flags, from ?? null, len);
  if (n >= 0) return n;
  const errno = lastErrno();
  const name = errnoName(errno);
  if (name === "EAGAIN" || name === "EWOULDBLOCK") return -1;
  throw new SyscallError("recvfrom", errno);
}

/** if_nametoindex(3) in the caller's network namespace; 0 when there is no such device. */
export function ifNameToIndex(name: string): number {
  return lib().ifNameToIndex(name);
}

/** setns(2): moves the calling thread into the namespace `fd` refers to (0: any type). */
export function setNs(fd: number, nstype = 0): void {
  if (lib().setns(fd, nstype) < 0) throw new SyscallError("setns", lastErrno());
}
