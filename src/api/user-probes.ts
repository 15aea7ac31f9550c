// BCC's attach_uprobe / attach_uretprobe / attach_perf_event and the USDT attachments of one BPF object, over its
// Attachments (which owns the links). Targets are resolved in src/symbols/ (library names, symbols -> file
// offsets), attached in src/link/ (uprobe PMU, perf events) and src/usdt/ (one cookie per probe location).
import { ProgType } from "../loader/index.js";
import { attachUprobe, attachPerfEvent, type Link, type PerfEventOptions } from "../link/index.js";
import { attachUsdt, type UsdtPlan } from "../usdt/index.js";
import { ArgumentError, ErrorCode, TsbccError } from "../errors.js";
import { resolveUprobeTargets, type UprobeSpec } from "../symbols/resolve.js";
import { defaultSymbolizer } from "../symbols/index.js";
import { checkProbeQuota, countProbe } from "./probe-quota.js";
import type { Attachments } from "./attachments.js";

interface UprobeKey {
  key: string;
  path: string;
  offset: bigint;
}

export class UserProbes {
  constructor(private readonly attach: Attachments) {}

  #keys(opts: UprobeSpec, ret: boolean): UprobeKey[] {
    if (ret && opts?.symOff) throw new ArgumentError("symOff", "a uretprobe cannot have symOff");
    const { path, targets } = resolveUprobeTargets(opts);
    const pid = opts.pid && opts.pid > 0 ? opts.pid : -1;
    return targets.map((t) => ({ key: `${ret ? "uretprobe" : "uprobe"}:${path}:${t.offset}:${pid}`, path, offset: t.offset }));
  }

  /** Attaches `fnName` to every target of `opts` (all or nothing). */
  attachUprobe(opts: UprobeSpec & { fnName: string }, ret: boolean): void {
    const keys = this.#keys(opts, ret).filter((k, i, all) =>
      opts.symRe === undefined || (!this.attach.has(k.key) && all.findIndex((x) => x.key === k.key) === i));
    for (const k of keys) {
      if (this.attach.has(k.key)) throw new TsbccError(ErrorCode.ATTACH, `cannot attach to ${k.key}: already attached by this BPF object`);
    }
    checkProbeQuota(keys.length);
    const fd = this.attach.loadFunc(opts.fnName, ProgType.KPROBE);
    // Stacks and addresses of a given pid must still symbolize after it exits: capture its mappings now.
    if (opts.pid !== undefined && opts.pid > 0) defaultSymbolizer().rememberProcess(opts.pid);
    const links: Link[] = [];
    try {
      for (const k of keys) links.push(attachUprobe(fd, { path: k.path, offset: k.offset, retprobe: ret, pid: opts.pid }));
    } catch (e) {
      for (const l of links) l.close();
      throw e;
    }
    links.forEach((link, i) => {
      link.onClose(countProbe());
      this.attach.remember(keys[i]!.key, link);
    });
  }

  detachUprobe(opts: UprobeSpec, ret: boolean): void {
    for (const k of this.#keys(opts, ret)) this.attach.detach(k.key, k.key);
  }

  /** BCC's attach_perf_event: runs PERF_EVENT program `fnName` every samplePeriod events or sampleFreq times a second. */
  attachPerfEvent(opts: PerfEventOptions & { fnName: string }): void {
    const key = `perf:${opts?.evType}:${opts?.evConfig}`;
    if (this.attach.has(key)) throw new TsbccError(ErrorCode.ATTACH, `cannot attach to ${key}: already attached by this BPF object`);
    if (opts.pid !== undefined && opts.pid > 0) defaultSymbolizer().rememberProcess(opts.pid);
    this.attach.remember(key, attachPerfEvent(this.attach.loadFunc(opts.fnName, ProgType.PERF_EVENT), opts));
  }

  detachPerfEvent(opts: { evType: number; evConfig: number }): void {
    this.attach.detach(`perf:${opts.evType}:${opts.evConfig}`, `perf event ${opts.evType}:${opts.evConfig}`);
  }

  /** Attaches every location of the USDT probes planned at load. */
  attachUsdt(plan: UsdtPlan): void {
    for (const link of attachUsdt(plan, (fn) => this.attach.loadFunc(fn, ProgType.KPROBE))) this.attach.remember("usdt", link);
  }
}

/** The perf_event_attr fields attachPerfEventRaw takes (BCC's Perf.perf_event_attr, the ones a program can use). */
export interface PerfEventRawAttr {
  type: number;
  config: number;
  samplePeriod?: number;
  sampleFreq?: number;
  excludeUser?: boolean;
  excludeKernel?: boolean;
  preciseIp?: number;
}

/** attachPerfEventRaw's options in attachPerfEvent's terms; wrong input names the attr field. */
export function perfEventOptionsFromAttr(o: { attr: PerfEventRawAttr; fnName: string; pid?: number; cpu?: number; groupFd?: number }): PerfEventOptions & { fnName: string } {
  if (typeof o !== "object" || o === null) throw new ArgumentError("opts", "needs { attr, fnName }");
  const a = o.attr;
  if (typeof a !== "object" || a === null) throw new ArgumentError("attr", "must be a perf_event_attr object ({ type, config, samplePeriod | sampleFreq, ... })");
  for (const k of ["excludeUser", "excludeKernel"] as const) {
    if (a[k] !== undefined && typeof a[k] !== "boolean") throw new ArgumentError(`attr.${k}`, `must be a boolean, got ${String(a[k])}`);
  }
  return {
    fnName: o.fnName, pid: o.pid, cpu: o.cpu, groupFd: o.groupFd, evType: a.type, evConfig: a.config, samplePeriod: a.samplePeriod,
    sampleFreq: a.sampleFreq, excludeUser: a.excludeUser, excludeKernel: a.excludeKernel, preciseIp: a.preciseIp,
  };
}
