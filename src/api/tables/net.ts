// Table classes for the networking maps (issue 12): socket maps hold sockets (given by fd, or as a Node socket),
// storage maps are keyed by the fd of the object they hang on (socket, pidfd, cgroup directory, inode). The table
// factory (src/api/tables/factory.ts) asks `createNetTable(info, fd, codecs)` first for these map types.
import { ArgumentError } from "../../errors.js";
import type { Fd } from "../../sys/index.js";
import { MapType } from "../../sys/abi.js";
import { rawCodec, u32Codec, type KeyValueCodec } from "./codec.js";
import { ArrayTableBase } from "./array.js";
import { Table, type TableInfo, type TableOptions, type UpdateFlag } from "./table.js";

/** A socket: its fd, an object with `fd`, or a Node net.Socket / dgram.Socket (its handle's fd). */
export type SocketRef = number | { fd: number } | { _handle?: { fd?: number } | null };

export function socketFd(s: SocketRef, argument = "socket"): number {
  const n = typeof s === "number" ? s
    : typeof (s as { fd?: unknown }).fd === "number" ? (s as { fd: number }).fd
    : (s as { _handle?: { fd?: number } | null })._handle?.fd;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new ArgumentError(argument, "expected a socket fd or a connected Node socket");
  return n;
}

/** BPF_SOCKMAP: `set(i, socket)` puts a socket in slot i; `delete(i)` takes it out. */
export class SockMapTable extends ArrayTableBase<number> {
  constructor(info: TableInfo, fd: Fd, options: TableOptions = {}) {
    super(info, fd, u32Codec("int (socket fd)"), options);
  }
  override set(key: number, sock: SocketRef, flags: UpdateFlag = "any"): this {
    return super.set(key, socketFd(sock), flags);
  }
}

/** BPF_SOCKHASH: `set(key, socket)` with the map's key type. */
export class SockHashTable<K = any> extends Table<K, number> {
  constructor(info: TableInfo, fd: Fd, key: KeyValueCodec<K>, options: TableOptions = {}) {
    super(info, fd, key, u32Codec("int (socket fd)"), options);
  }
  override set(key: K, sock: SocketRef, flags: UpdateFlag = "any"): this {
    return super.set(key, socketFd(sock), flags);
  }
}

/** sk/inode/task/cgroup storage: keyed by the owner's fd (a socket, a file, a pidfd, a cgroup directory). */
export class StorageTable<V = any> extends Table<number, V> {
  constructor(info: TableInfo, fd: Fd, value: KeyValueCodec<V>, options: TableOptions = {}) {
    super(info, fd, u32Codec("int (owner fd)"), value, options);
  }
  override get(owner: SocketRef): V | undefined {
    return super.get(socketFd(owner, "owner"));
  }
  override set(owner: SocketRef, value: V, flags: UpdateFlag = "any"): this {
    return super.set(socketFd(owner, "owner"), value, flags);
  }
}

export function createNetTable(info: TableInfo, fd: Fd, codecs: { key?: KeyValueCodec; value?: KeyValueCodec }, options: TableOptions = {}): Table | undefined {
  switch (info.mapType) {
    case MapType.SOCKMAP:
      return new SockMapTable(info, fd, options);
    case MapType.SOCKHASH:
      return new SockHashTable(info, fd, codecs.key ?? rawCodec(info.keySize), options);
    case MapType.SK_STORAGE:
    case MapType.INODE_STORAGE:
    case MapType.TASK_STORAGE:
    case MapType.CGRP_STORAGE:
      return new StorageTable(info, fd, codecs.value ?? rawCodec(info.valueSize), options);
    default:
      return undefined;
  }
}
