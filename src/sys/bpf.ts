// bpf(2): one typed wrapper per command we use. Each builds the command's `union bpf_attr` variant in a
// zeroed buffer (trailing bytes must be zero for the kernel to accept a larger size), calls the single
// entry point, and turns errno into a SyscallError naming the command.
import { addressOf, rawBpf, SyscallError } from "./native.js";
import { Fd } from "./fd.js";

export const BpfCmd = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5, OBJ_PIN: 6, OBJ_GET: 7, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_TEST_RUN: 10,
  PROG_GET_NEXT_ID: 11, MAP_GET_NEXT_ID: 12, PROG_GET_FD_BY_ID: 13, MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16, RAW_TRACEPOINT_OPEN: 17, BTF_LOAD: 18, BTF_GET_FD_BY_ID: 19,
  MAP_LOOKUP_AND_DELETE_ELEM: 21, MAP_FREEZE: 22, BTF_GET_NEXT_ID: 23, MAP_LOOKUP_BATCH: 24,
  MAP_LOOKUP_AND_DELETE_BATCH: 25, MAP_UPDATE_BATCH: 26, MAP_DELETE_BATCH: 27, LINK_CREATE: 28,
  LINK_DETACH: 34, ITER_CREATE: 33,
} as const;
const cmdNames = new Map<number, string>(Object.entries(BpfCmd).map(([k, v]) => [v, `BPF_${k}`]));

/** Little-endian writer over a zeroed attr buffer. */
class Attr {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u32(off: number, v: number): this {
    this.view.setUint32(off, v >>> 0, true);
    return this;
  }
  s32(off: number, v: number): this {
    this.view.setInt32(off, v, true);
    return this;
  }
  u64(off: number, v: bigint | number): this {
    this.view.setBigUint64(off, BigInt(v), true);
    return this;
  }
  ptr(off: number, buf: Uint8Array | null | undefined): this {
    return this.u64(off, buf ? addressOf(buf) : 0n);
  }
  str(off: number, s: string, max: number): this {
    const enc = new TextEncoder().encode(s).subarray(0, max - 1);
    this.bytes.set(enc, off);
    return this;
  }
  readU32(off: number): number {
    return this.view.getUint32(off, true);
  }
}

function call(cmd: number, attr: Attr, detail?: string): number {
  const { ret, errno } = rawBpf(cmd, attr.bytes, attr.bytes.byteLength);
  if (ret < 0) throw new SyscallError(`bpf(${cmdNames.get(cmd) ?? cmd})`, errno, detail);
  return ret;
}

/** Like call() but returns the errno instead of throwing (for lookups where ENOENT is an answer). */
function tryCall(cmd: number, attr: Attr): number {
  const { ret, errno } = rawBpf(cmd, attr.bytes, attr.bytes.byteLength);
  return ret < 0 ? errno : 0;
}

export interface MapCreateAttr {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  innerMapFd?: number;
  name?: string;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  mapExtra?: bigint;
}

export function mapCreate(a: MapCreateAttr): Fd {
  const attr = new Attr(72)
    .u32(0, a.mapType).u32(4, a.keySize).u32(8, a.valueSize).u32(12, a.maxEntries)
    .u32(16, a.flags ?? 0).u32(20, a.innerMapFd ?? 0).str(28, a.name ?? "", 16)
    .u32(48, a.btfFd ?? 0).u32(52, a.btfKeyTypeId ?? 0).u32(56, a.btfValueTypeId ?? 0)
    .u64(64, a.mapExtra ?? 0n);
  return new Fd(call(BpfCmd.MAP_CREATE, attr, a.name), `map ${a.name ?? ""}`);
}

function elemAttr(mapFd: number, key: Uint8Array | null, value: Uint8Array | null, flags: number | bigint): Attr {
  return new Attr(32).u32(0, mapFd).ptr(8, key).ptr(16, value).u64(24, flags);
}

export const ENOENT = 2;

/** Returns false when the key is absent (ENOENT); throws on any other failure. */
export function mapLookup(mapFd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): boolean {
  const errno = tryCall(BpfCmd.MAP_LOOKUP_ELEM, elemAttr(mapFd, key, value, flags));
  if (errno === ENOENT) return false;
  if (errno) throw new SyscallError("bpf(BPF_MAP_LOOKUP_ELEM)", errno);
  return true;
}

export function mapUpdate(mapFd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
  call(BpfCmd.MAP_UPDATE_ELEM, elemAttr(mapFd, key, value, flags));
}

export function mapDelete(mapFd: number, key: Uint8Array): boolean {
  const errno = tryCall(BpfCmd.MAP_DELETE_ELEM, elemAttr(mapFd, key, null, 0));
  if (errno === ENOENT) return false;
  if (errno) throw new SyscallError("bpf(BPF_MAP_DELETE_ELEM)", errno);
  return true;
}

export function mapLookupAndDelete(mapFd: number, key: Uint8Array | null, value: Uint8Array): boolean {
  const errno = tryCall(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, elemAttr(mapFd, key, value, 0));
  if (errno === ENOENT) return false;
  if (errno) throw new SyscallError("bpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM)", errno);
  return true;
}

/** Next key after `key` (null = first). Returns false at the end. */
export function mapGetNextKey(mapFd: number, key: Uint8Array | null, nextKey: Uint8Array): boolean {
  const errno = tryCall(BpfCmd.MAP_GET_NEXT_KEY, elemAttr(mapFd, key, nextKey, 0));
  if (errno === ENOENT) return false;
  if (errno) throw new SyscallError("bpf(BPF_MAP_GET_NEXT_KEY)", errno);
  return true;
}

export interface BatchResult {
  count: number;
  done: boolean;
}

/**
 * One MAP_LOOKUP_BATCH (or LOOKUP_AND_DELETE_BATCH) call. `inBatch` null starts from the beginning; the kernel
 * writes the resume token to `outBatch`. ENOENT means "this was the last batch" (count may still be > 0).
 */
export function mapLookupBatch(
  mapFd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array,
  count: number, andDelete = false,
): BatchResult {
  const attr = new Attr(56).ptr(0, inBatch).ptr(8, outBatch).ptr(16, keys).ptr(24, values).u32(32, count).u32(36, mapFd);
  const cmd = andDelete ? BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH : BpfCmd.MAP_LOOKUP_BATCH;
  const errno = tryCall(cmd, attr);
  const got = attr.readU32(32);
  if (errno === ENOENT) return { count: got, done: true };
  if (errno) throw new SyscallError(`bpf(${cmdNames.get(cmd)})`, errno);
  return { count: got, done: false };
}

export function mapUpdateBatch(mapFd: number, keys: Uint8Array, values: Uint8Array, count: number, flags = 0): number {
  const attr = new Attr(56).ptr(16, keys).ptr(24, values).u32(32, count).u32(36, mapFd).u64(40, flags);
  call(BpfCmd.MAP_UPDATE_BATCH, attr);
  return attr.readU32(32);
}

export function mapDeleteBatch(mapFd: number, keys: Uint8Array, count: number): number {
  const attr = new Attr(56).ptr(16, keys).u32(32, count).u32(36, mapFd);
  call(BpfCmd.MAP_DELETE_BATCH, attr);
  return attr.readU32(32);
}

export function mapFreeze(mapFd: number): void {
  call(BpfCmd.MAP_FREEZE, new Attr(8).u32(0, mapFd));
}

export interface ProgLoadAttr {
  progType: number;
  insns: Uint8Array;
  license: string;
  name?: string;
  expectedAttachType?: number;
  kernVersion?: number;
  progFlags?: number;
  btfFd?: number;
  funcInfo?: { recSize: number; bytes: Uint8Array; count: number };
  lineInfo?: { recSize: number; bytes: Uint8Array; count: number };
  attachBtfId?: number;
  attachBtfObjFd?: number;
  attachProgFd?: number;
  logLevel?: number;
  logBuf?: Uint8Array;
}

/** PROG_LOAD result: the fd, or the errno plus how much log the kernel wanted (log_true_size). */
export function progLoad(a: ProgLoadAttr): { fd?: Fd; errno: number; logTrueSize: number } {
  const license = new TextEncoder().encode(a.license + "\0");
  const attr = new Attr(144)
    .u32(0, a.progType).u32(4, a.insns.byteLength / 8).ptr(8, a.insns).ptr(16, license)
    .u32(24, a.logBuf ? (a.logLevel ?? 1) : 0).u32(28, a.logBuf?.byteLength ?? 0).ptr(32, a.logBuf)
    .u32(40, a.kernVersion ?? 0).u32(44, a.progFlags ?? 0).str(48, a.name ?? "", 16)
    .u32(68, a.expectedAttachType ?? 0).u32(72, a.btfFd ?? 0);
  if (a.funcInfo) attr.u32(76, a.funcInfo.recSize).ptr(80, a.funcInfo.bytes).u32(88, a.funcInfo.count);
  if (a.lineInfo) attr.u32(92, a.lineInfo.recSize).ptr(96, a.lineInfo.bytes).u32(104, a.lineInfo.count);
  attr.u32(108, a.attachBtfId ?? 0).u32(112, a.attachBtfObjFd ?? a.attachProgFd ?? 0);
  const { ret, errno } = rawBpf(BpfCmd.PROG_LOAD, attr.bytes, attr.bytes.byteLength);
  const logTrueSize = attr.readU32(140);
  void license;
  if (ret < 0) return { errno, logTrueSize };
  return { fd: new Fd(ret, `prog ${a.name ?? ""}`), errno: 0, logTrueSize };
}

export function btfLoad(btf: Uint8Array, logBuf?: Uint8Array): { fd?: Fd; errno: number } {
  const attr = new Attr(32).ptr(0, btf).ptr(8, logBuf).u32(16, btf.byteLength)
    .u32(20, logBuf?.byteLength ?? 0).u32(24, logBuf ? 1 : 0);
  const { ret, errno } = rawBpf(BpfCmd.BTF_LOAD, attr.bytes, attr.bytes.byteLength);
  if (ret < 0) return { errno };
  return { fd: new Fd(ret, "btf"), errno: 0 };
}

export function objPin(fd: number, path: string): void {
  const p = new TextEncoder().encode(path + "\0");
  call(BpfCmd.OBJ_PIN, new Attr(16).ptr(0, p).u32(8, fd), path);
}

export function objGet(path: string, label = "pinned object"): Fd {
  const p = new TextEncoder().encode(path + "\0");
  return new Fd(call(BpfCmd.OBJ_GET, new Attr(16).ptr(0, p), path), `${label} ${path}`);
}

export function rawTracepointOpen(name: string | null, progFd: number): Fd {
  const n = name === null ? null : new TextEncoder().encode(name + "\0");
  return new Fd(call(BpfCmd.RAW_TRACEPOINT_OPEN, new Attr(16).ptr(0, n).u32(8, progFd), name ?? undefined),
    `raw_tracepoint ${name ?? "(btf)"}`);
}

export interface LinkCreateAttr {
  progFd: number;
  targetFd: number;
  attachType: number;
  flags?: number;
  targetBtfId?: number;
  iterInfo?: Uint8Array;
  perfEventCookie?: bigint;
}

export function linkCreate(a: LinkCreateAttr): Fd {
  const attr = new Attr(64).u32(0, a.progFd).u32(4, a.targetFd).u32(8, a.attachType).u32(12, a.flags ?? 0);
  if (a.targetBtfId) attr.u32(16, a.targetBtfId);
  if (a.iterInfo) attr.ptr(16, a.iterInfo).u32(24, a.iterInfo.byteLength);
  if (a.perfEventCookie !== undefined) attr.u64(16, a.perfEventCookie);
  return new Fd(call(BpfCmd.LINK_CREATE, attr), "link");
}

export function iterCreate(linkFd: number): Fd {
  return new Fd(call(BpfCmd.ITER_CREATE, new Attr(8).u32(0, linkFd)), "iter");
}

export interface TestRunAttr {
  progFd: number;
  dataIn?: Uint8Array;
  dataOut?: Uint8Array;
  ctxIn?: Uint8Array;
  repeat?: number;
  flags?: number;
}

export function progTestRun(a: TestRunAttr): { retval: number; duration: number; dataSizeOut: number } {
  const attr = new Attr(80).u32(0, a.progFd).u32(8, a.dataIn?.byteLength ?? 0).u32(12, a.dataOut?.byteLength ?? 0)
    .ptr(16, a.dataIn).ptr(24, a.dataOut).u32(32, a.repeat ?? 1).u32(40, a.ctxIn?.byteLength ?? 0).ptr(48, a.ctxIn)
    .u32(64, a.flags ?? 0);
  call(BpfCmd.PROG_TEST_RUN, attr);
  return { retval: attr.readU32(4), duration: attr.readU32(36), dataSizeOut: attr.readU32(12) };
}

/** OBJ_GET_INFO_BY_FD into `info` (struct bpf_prog_info / bpf_map_info / bpf_link_info / bpf_btf_info). */
export function objInfo(fd: number, info: Uint8Array): number {
  const attr = new Attr(16).u32(0, fd).u32(4, info.byteLength).ptr(8, info);
  call(BpfCmd.OBJ_GET_INFO_BY_FD, attr);
  return attr.readU32(4);
}

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
}

/** struct bpf_map_info's leading fields (type, id, key/value size, max_entries, flags, name[16]). */
export function mapInfo(mapFd: number): MapInfo {
  const info = new Uint8Array(40);
  objInfo(mapFd, info);
  const v = new DataView(info.buffer);
  const nameBytes = info.subarray(24, 40);
  const nul = nameBytes.indexOf(0);
  return {
    type: v.getUint32(0, true),
    id: v.getUint32(4, true),
    keySize: v.getUint32(8, true),
    valueSize: v.getUint32(12, true),
    maxEntries: v.getUint32(16, true),
    flags: v.getUint32(20, true),
    name: new TextDecoder().decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)),
  };
}

/** Iterates kernel object ids (progs, maps, BTF objects); `cmd` is one of the *_GET_NEXT_ID commands. */
export function* objectIds(cmd: number): Generator<number> {
  let id = 0;
  for (;;) {
    const attr = new Attr(12).u32(0, id);
    const errno = tryCall(cmd, attr);
    if (errno === ENOENT) return;
    if (errno) throw new SyscallError(`bpf(${cmdNames.get(cmd)})`, errno);
    id = attr.readU32(4);
    yield id;
  }
}

export function fdById(cmd: number, id: number, label: string): Fd {
  return new Fd(call(cmd, new Attr(12).u32(0, id)), `${label} id ${id}`);
}

// ---- networking (issue 12): legacy PROG_ATTACH (sockmap parsers/verdicts, SO_ATTACH fallbacks), LINK_DETACH,
// and a PROG_TEST_RUN that also returns the context the program left.

export interface ProgAttachAttr {
  targetFd: number;
  progFd: number;
  attachType: number;
  flags?: number;
}

export function progAttach(a: ProgAttachAttr): void {
  call(BpfCmd.PROG_ATTACH, new Attr(24).u32(0, a.targetFd).u32(4, a.progFd).u32(8, a.attachType).u32(12, a.flags ?? 0));
}

export function progDetach(a: ProgAttachAttr): void {
  call(BpfCmd.PROG_DETACH, new Attr(24).u32(0, a.targetFd).u32(4, a.progFd).u32(8, a.attachType));
}

/** LINK_DETACH: detaches a link's program while its fd stays open (the link becomes defunct). */
export function linkDetach(linkFd: number): void {
  call(BpfCmd.LINK_DETACH, new Attr(8).u32(0, linkFd));
}

export interface TestRunFullAttr extends TestRunAttr {
  ctxOut?: Uint8Array;
}

/** PROG_TEST_RUN with every in/out buffer; sizes out are what the kernel wrote (0 where it wrote nothing). */
export function progTestRunFull(a: TestRunFullAttr): { retval: number; duration: number; dataSizeOut: number; ctxSizeOut: number } {
  const attr = new Attr(80).u32(0, a.progFd).u32(8, a.dataIn?.byteLength ?? 0).u32(12, a.dataOut?.byteLength ?? 0)
    .ptr(16, a.dataIn).ptr(24, a.dataOut).u32(32, a.repeat ?? 1).u32(40, a.ctxIn?.byteLength ?? 0)
    .u32(44, a.ctxOut?.byteLength ?? 0).ptr(48, a.ctxIn).ptr(56, a.ctxOut).u32(64, a.flags ?? 0);
  call(BpfCmd.PROG_TEST_RUN, attr);
  return { retval: attr.readU32(4), duration: attr.readU32(36), dataSizeOut: attr.readU32(12), ctxSizeOut: attr.readU32(44) };
}

/** PROG_QUERY: ids of the programs attached at (target, attach type); target is a cgroup fd or an ifindex (TCX). */
export function progQuery(targetFd: number, attachType: number, max = 64): number[] {
  const ids = new Uint8Array(4 * max);
  const attr = new Attr(64).u32(0, targetFd).u32(4, attachType).ptr(16, ids).u32(24, max);
  call(BpfCmd.PROG_QUERY, attr);
  const n = Math.min(attr.readU32(24), max);
  const v = new DataView(ids.buffer);
  return Array.from({ length: n }, (_, i) => v.getUint32(i * 4, true));
}
