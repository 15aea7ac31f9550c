// A tiny eBPF assembler for kernel tests: just the instructions the event-reader tests need, with labels for
// jumps. Programs built here drive the kernel side (perf_event_output, ringbuf_*) without clang or a loader.
import { spawnSync } from "node:child_process";
import { Worker } from "node:worker_threads";
import { readdirSync, readFileSync } from "node:fs";
import { bpf, type Fd, liveFds } from "../../src/sys/index.js";

export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;

const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, ALU64 = 0x07;
const K = 0x00, X = 0x08;
const MEM = 0x60, ATOMIC = 0xc0, IMM = 0x00;
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export type SizeName = keyof typeof Size;
export const Alu = { ADD: 0x00, SUB: 0x10, MUL: 0x20, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, XOR: 0xa0, MOV: 0xb0 } as const;
export const Jmp = { JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40, JNE: 0x50, JSGT: 0x60, JSLT: 0xc0 } as const;
const CALL = 0x80, EXIT = 0x90;
const PSEUDO_MAP_FD = 1;

export const Helper = {
  map_lookup_elem: 1, get_current_pid_tgid: 14, perf_event_output: 25,
  ringbuf_output: 130, ringbuf_reserve: 131, ringbuf_submit: 132, ringbuf_discard: 133, ringbuf_query: 134,
} as const;

interface Insn {
  op: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  label?: string; // jump target to resolve into `off`
}

export class Asm {
  readonly #insns: Insn[] = [];
  readonly #labels = new Map<string, number>();

  #emit(op: number, dst: number, src: number, off: number, imm: number, label?: string): this {
    this.#insns.push({ op, dst, src, off, imm, label });
    return this;
  }
  label(name: string): this {
    if (this.#labels.has(name)) throw new Error(`duplicate label ${name}`);
    this.#labels.set(name, this.#insns.length);
    return this;
  }
  movImm(dst: number, imm: number): this {
    return this.#emit(ALU64 | Alu.MOV | K, dst, 0, 0, imm);
  }
  /** 32-bit move: the upper half is zeroed, so movImm32(r, -1) gives 0xffffffff. */
  movImm32(dst: number, imm: number): this {
    return this.#emit(ALU | Alu.MOV | K, dst, 0, 0, imm);
  }
  mov(dst: number, src: number): this {
    return this.#emit(ALU64 | Alu.MOV | X, dst, src, 0, 0);
  }
  aluImm(op: keyof typeof Alu, dst: number, imm: number): this {
    return this.#emit(ALU64 | Alu[op] | K, dst, 0, 0, imm);
  }
  alu(op: keyof typeof Alu, dst: number, src: number): this {
    return this.#emit(ALU64 | Alu[op] | X, dst, src, 0, 0);
  }
  ldImm64(dst: number, value: bigint): this {
    const v = BigInt.asUintN(64, value);
    this.#emit(LD | IMM | Size.DW, dst, 0, 0, Number(BigInt.asIntN(32, v & 0xffffffffn)));
    return this.#emit(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n)));
  }
  /** ld_imm64 with src_reg = BPF_PSEUDO_MAP_FD: the verifier swaps the fd for the map pointer. */
  ldMapFd(dst: number, mapFd: number): this {
    this.#emit(LD | IMM | Size.DW, dst, PSEUDO_MAP_FD, 0, mapFd);
    return this.#emit(0, 0, 0, 0, 0);
  }
  ldx(size: SizeName, dst: number, src: number, off: number): this {
    return this.#emit(LDX | MEM | Size[size], dst, src, off, 0);
  }
  stx(size: SizeName, dst: number, off: number, src: number): this {
    return this.#emit(STX | MEM | Size[size], dst, src, off, 0);
  }
  st(size: SizeName, dst: number, off: number, imm: number): this {
    return this.#emit(ST | MEM | Size[size], dst, 0, off, imm);
  }
  /** lock *(u64 *)(dst + off) += src */
  atomicAdd64(dst: number, off: number, src: number): this {
    return this.#emit(STX | ATOMIC | Size.DW, dst, src, off, Alu.ADD);
  }
  jmpImm(op: keyof typeof Jmp, dst: number, imm: number, label: string): this {
    return this.#emit(JMP | Jmp[op] | K, dst, 0, 0, imm, label);
  }
  jmp(op: keyof typeof Jmp, dst: number, src: number, label: string): this {
    return this.#emit(JMP | Jmp[op] | X, dst, src, 0, 0, label);
  }
  ja(label: string): this {
    return this.#emit(JMP | Jmp.JA, 0, 0, 0, 0, label);
  }
  call(helper: number): this {
    return this.#emit(JMP | CALL, 0, 0, 0, helper);
  }
  exit(): this {
    return this.#emit(JMP | EXIT, 0, 0, 0, 0);
  }

  /** The program as the bytes PROG_LOAD takes. */
  assemble(): Uint8Array {
    const out = new Uint8Array(this.#insns.length * 8);
    const v = new DataView(out.buffer);
    this.#insns.forEach((ins, i) => {
      let off = ins.off;
      if (ins.label !== undefined) {
        const target = this.#labels.get(ins.label);
        if (target === undefined) throw new Error(`undefined label ${ins.label}`);
        off = target - (i + 1);
      }
      v.setUint8(i * 8, ins.op);
      v.setUint8(i * 8 + 1, (ins.src << 4) | ins.dst);
      v.setInt16(i * 8 + 2, off, true);
      v.setInt32(i * 8 + 4, ins.imm, true);
    });
    return out;
  }
}

// ---- Programs the event-reader tests load ----------------------------------------------------------------

export const ProgType = { SOCKET_FILTER: 1, SCHED_CLS: 3, TRACEPOINT: 5 } as const;
/** Marks every record so a test can tell a real payload from garbage. */
export const MAGIC = 0x7473626363657674n; // "tsbccevt"
/** The stats map value: u64 fields. */
export const Stat = { runs: 0, failed: 1, queryAvail: 2, queryRingSize: 3, queryCons: 4, queryProd: 5 } as const;
export const STATS_VALUE_SIZE = 64;
export const RECORD_SIZE = 24; // { u64 counter; u64 magic; u64 counter ^ magic }

export type Output =
  | { kind: "perf"; mapFd: number }
  | { kind: "ringbuf-output"; mapFd: number; flags?: number }
  | { kind: "ringbuf-reserve"; mapFd: number } // submits even counters, discards odd ones
  | { kind: "ringbuf-query"; mapFd: number }; // ringbuf_output, then four ringbuf_query results into stats

/**
 * One record per run: bump stats.runs, write { runs, MAGIC, runs ^ MAGIC } through `out`, count a failed
 * output in stats.failed. With `pid`, only runs in that process (tgid) produce anything (tracepoint use).
 */
export function eventProgram(statsFd: number, out: Output, pid?: number): Uint8Array {
  const a = new Asm();
  a.mov(R6, R1);
  if (pid !== undefined) {
    a.call(Helper.get_current_pid_tgid).aluImm("RSH", R0, 32).jmpImm("JNE", R0, pid, "out");
  }
  a.st("W", R10, -4, 0).ldMapFd(R1, statsFd).mov(R2, R10).aluImm("ADD", R2, -4).call(Helper.map_lookup_elem)
    .jmpImm("JEQ", R0, 0, "out").mov(R8, R0)
    .ldx("DW", R7, R8, 0).aluImm("ADD", R7, 1).stx("DW", R8, 0, R7);
  const record = (base: number, off: number) =>
    a.stx("DW", base, off, R7).ldImm64(R1, MAGIC).stx("DW", base, off + 8, R1).alu("XOR", R1, R7).stx("DW", base, off + 16, R1);
  switch (out.kind) {
    case "perf":
      record(R10, -32);
      a.mov(R1, R6).ldMapFd(R2, out.mapFd).movImm32(R3, -1).mov(R4, R10).aluImm("ADD", R4, -32)
        .movImm(R5, RECORD_SIZE).call(Helper.perf_event_output);
      break;
    case "ringbuf-output":
    case "ringbuf-query":
      record(R10, -32);
      a.ldMapFd(R1, out.mapFd).mov(R2, R10).aluImm("ADD", R2, -32).movImm(R3, RECORD_SIZE)
        .movImm(R4, out.kind === "ringbuf-output" ? (out.flags ?? 0) : 0).call(Helper.ringbuf_output);
      break;
    case "ringbuf-reserve":
      a.ldMapFd(R1, out.mapFd).movImm(R2, RECORD_SIZE).movImm(R3, 0).call(Helper.ringbuf_reserve)
        .jmpImm("JNE", R0, 0, "reserved").movImm(R0, -1).ja("done")
        .label("reserved");
      record(R0, 0);
      a.mov(R1, R0).movImm(R2, 0).jmpImm("JSET", R7, 1, "discard")
        .call(Helper.ringbuf_submit).movImm(R0, 0).ja("done")
        .label("discard").call(Helper.ringbuf_discard).movImm(R0, 0)
        .label("done");
      break;
  }
  a.jmpImm("JEQ", R0, 0, "ok").movImm(R1, 1).atomicAdd64(R8, Stat.failed * 8, R1).label("ok");
  if (out.kind === "ringbuf-query") {
    for (let flag = 0; flag < 4; flag++) {
      a.ldMapFd(R1, out.mapFd).movImm(R2, flag).call(Helper.ringbuf_query).stx("DW", R8, (Stat.queryAvail + flag) * 8, R0);
    }
  }
  return a.label("out").movImm(R0, 0).exit().assemble();
}

// ---- Kernel-side kit: load, run, inspect ----------------------------------------------------------------


export function loadProgram(progType: number, insns: Uint8Array, name = "evt_test"): Fd {
  const first = bpf.progLoad({ progType, insns, license: "GPL", name });
  if (first.fd) return first.fd;
  const logBuf = new Uint8Array(1 << 20);
  const again = bpf.progLoad({ progType, insns, license: "GPL", name, logBuf, logLevel: 1 });
  if (again.fd) return again.fd;
  const log = new TextDecoder().decode(logBuf.subarray(0, Math.max(0, logBuf.indexOf(0))));
  throw new Error(`PROG_LOAD failed (errno ${first.errno}):\n${log.split("\n").slice(-25).join("\n")}`);
}

export function statsMap(): Fd {
  return bpf.mapCreate({ mapType: 2, keySize: 4, valueSize: STATS_VALUE_SIZE, maxEntries: 1, name: "evt_stats" });
}

export function readStats(statsFd: number): bigint[] {
  const v = new Uint8Array(STATS_VALUE_SIZE);
  bpf.mapLookup(statsFd, new Uint8Array(4), v);
  const dv = new DataView(v.buffer);
  return Array.from({ length: STATS_VALUE_SIZE / 8 }, (_, i) => dv.getBigUint64(i * 8, true));
}

const packet = new Uint8Array(64);
/** BPF_PROG_TEST_RUN the program `repeat` times on one 64-byte packet. */
export function run(progFd: number, repeat = 1): void {
  bpf.progTestRun({ progFd, dataIn: packet, repeat });
}

export interface DecodedRecord {
  counter: bigint;
  magicOk: boolean;
}
export function decodeRecord(data: Uint8Array): DecodedRecord {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const counter = dv.getBigUint64(0, true);
  return { counter, magicOk: dv.getBigUint64(8, true) === MAGIC && dv.getBigUint64(16, true) === (counter ^ MAGIC) };
}

/** What the process holds: fds in /proc/self/fd, fds tsbcc tracks, and mappings of perf/bpf anon inodes. */
export function processResources(): { procFds: number; liveFds: number; perfMaps: number; bpfMaps: number } {
  const maps = readFileSync("/proc/self/maps", "utf8").split("\n");
  return {
    procFds: readdirSync("/proc/self/fd").length,
    liveFds: liveFds().size,
    perfMaps: maps.filter((l) => l.includes("[perf_event]")).length,
    bpfMaps: maps.filter((l) => /anon_inode:\[?bpf/.test(l)).length,
  };
}

/**
 * Runs the program once on a given CPU, from a child process pinned there with taskset (test_run has no CPU
 * option for skb programs). Used to flush a perf ring's pending PERF_RECORD_LOST, which the kernel writes on
 * the CPU that lost samples, at its next successful output.
 */
export function runOnCpu(progFd: number, cpu: number, repeat = 1): void {
  const url = new URL("../../src/sys/index.js", import.meta.url).href;
  const code = `import(${JSON.stringify(url)}).then(({ bpf }) => bpf.progTestRun({ progFd: 3, dataIn: new Uint8Array(64), repeat: ${repeat} }))`;
  const r = spawnSync("taskset", ["-c", String(cpu), process.execPath, "-e", code], { stdio: ["ignore", "inherit", "inherit", progFd] });
  if (r.status !== 0) throw new Error(`taskset run on cpu ${cpu} failed: ${r.status ?? r.signal} ${r.error ?? ""}`);
}

/** Runs the program from a worker thread until told to stop; resolves with the number of runs. */
export async function producer(progFd: number, batch: number): Promise<{ stop(): Promise<number> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const code = `
    const { workerData, parentPort } = require("node:worker_threads");
    import(workerData.url).then(({ bpf }) => {
      const flag = new Int32Array(workerData.flag), dataIn = new Uint8Array(64);
      let runs = 0;
      parentPort.postMessage("started");
      while (Atomics.load(flag, 0) === 0) { bpf.progTestRun({ progFd: workerData.progFd, dataIn, repeat: workerData.batch }); runs += workerData.batch; }
      parentPort.postMessage(runs);
    });`;
  const url = new URL("../../src/sys/index.js", import.meta.url).href;
  const w = new Worker(code, { eval: true, workerData: { url, flag: flag.buffer, progFd, batch } });
  const done = new Promise<number>((resolve, reject) => {
    w.on("message", (m) => typeof m === "number" && resolve(m));
    w.once("error", reject);
  });
  await new Promise<void>((resolve, reject) => {
    w.on("message", (m) => m === "started" && resolve());
    w.once("error", reject);
  });
  let stopped: Promise<number> | undefined;
  return {
    stop: () => (stopped ??= (async () => {
      Atomics.store(flag, 0, 1);
      const runs = await done;
      await w.terminate();
      return runs;
    })()),
  };
}
