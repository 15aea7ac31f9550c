// What one BPF object has attached, by BCC's names: attach_* / detach_* for tracepoints, raw tracepoints,
// kprobes and BTF programs (fentry/fexit/LSM/iterators), and autoload. Which program goes where comes from its
// section, decided by the loader's one section rule (src/loader/sections.ts). The BPF class delegates here.
import { AttachType, LoadedObject, ProgType, classifySection } from "../loader/index.js";
import { attachTracepoint, attachRawTracepoint, attachKprobe, attachKprobeTracefs, removeStaleKprobeEvents, attachBtfProgram,
  attachIter, readIter, AttachError, type Link } from "../link/index.js";
import { kprobeFunctions } from "../kernel/kprobe-functions.js";
import { listTracepoints } from "../kernel/tracefs.js";
import { fixSyscallFnName } from "../kernel/syscalls.js";
import { haveKprobes, haveFentry, haveLsm } from "../kernel/features.js";
import { ArgumentError, ErrorCode, NoSuchFunctionError, TsbccError, patternArgument } from "../errors.js";
import { checkProbeQuota, countProbe } from "./probe-quota.js";
import { kprobeUnsupported, btfProgramUnsupported } from "./kernel-support.js";
import { locatedAt } from "./user-lines.js";

type BtfKind = "kfunc" | "kretfunc" | "kmod_ret" | "lsm";

export class Attachments {
  readonly #obj: LoadedObject;
  readonly #functions: { name: string; section: string }[];
  readonly #links = new Map<string, Link[]>();

  constructor(obj: LoadedObject, functions: { name: string; section: string }[]) {
    this.#obj = obj;
    this.#functions = functions;
  }

  get #names(): string[] {
    return this.#functions.map((f) => f.name);
  }

  /** BCC's autoload: every function whose section names its attach point completely is attached. */
  autoload(): void {
    for (const { name, section } of this.#functions) {
      const kind = classifySection(section);
      if (!kind.autoload) continue;
      switch (kind.attach) {
        case "tracepoint":
          this.attachTracepoint({ tp: kind.target.replace("/", ":"), fnName: name });
          break;
        case "raw_tracepoint":
          this.attachRawTracepoint({ tp: kind.target, fnName: name });
          break;
        case "kprobe":
        case "kretprobe": {
          if (!haveKprobes().supported) throw locatedAt(kprobeUnsupported(name), this.#obj.source, { fn: name });
          this.attachKprobe({ event: fixSyscallFnName(kind.target), fnName: name }, kind.attach === "kretprobe", 0, 0);
          break;
        }
        case "btf":
          this.attachBtf(kind.progType === ProgType.LSM ? "lsm" : kind.expectedAttachType === AttachType.TRACE_FEXIT ? "kretfunc" : "kfunc", name);
          break;
      }
    }
  }

  /** BCC's load_func: loads `name` as `progType` (once) and returns its fd. */
  loadFunc(name: string, progType: number): number {
    if (!this.#names.includes(name)) throw new NoSuchFunctionError(name, this.#names);
    return this.#obj.loadProgram(name, progType).fd.value;
  }

  /** Whether something is attached under `key` (e.g. "tp:cat:evt", "uprobe:/path:0x10:-1"). */
  has(key: string): boolean {
    return this.#links.has(key);
  }

  /** Records `link` under `key`, so detach(key) and close() release it. */
  remember(key: string, link: Link): void {
    const list = this.#links.get(key) ?? [];
    list.push(link);
    this.#links.set(key, list);
  }

  detach(key: string, what: string): void {
    const links = this.#links.get(key);
    if (!links) throw new TsbccError(ErrorCode.STATE, `${what} is not attached`);
    for (const l of links) l.close();
    this.#links.delete(key);
  }

  /** Tracepoints attached (BCC's num_open_tracepoints). */
  get openTracepoints(): number {
    let n = 0;
    for (const [key, links] of this.#links) if (key.startsWith("tp:")) n += links.length;
    return n;
  }

  attachTracepoint(opts: { tp?: string; tpRe?: string | RegExp; fnName: string }): void {
    if ((opts.tp === undefined) === (opts.tpRe === undefined)) throw new ArgumentError("tp", "give exactly one of tp or tpRe");
    if (opts.tp !== undefined && (typeof opts.tp !== "string" || !/^[^:\s]+:[^:\s]+$/.test(opts.tp))) {
      throw new ArgumentError("tp", `must be "category:event" (one colon, no spaces), got ${JSON.stringify(opts.tp) ?? String(opts.tp)}`);
    }
    const fd = this.loadFunc(opts.fnName, ProgType.TRACEPOINT);
    // BCC matches tp_re with re.match: anchored at the start only.
    const re = opts.tpRe === undefined ? undefined : patternArgument("tpRe", opts.tpRe, "start");
    const targets = re ? listTracepoints(re) : [opts.tp!];
    if (re && targets.length === 0) throw new AttachError(`tracepoints matching ${String(opts.tpRe)}`, "none found", { code: ErrorCode.NO_SUCH_TRACEPOINT });
    for (const tp of targets) {
      const [cat, evt] = tp.split(":");
      if (!cat || !evt) throw new ArgumentError("tp", `must be "category:event", got "${tp}"`);
      try {
        this.remember(`tp:${tp}`, attachTracepoint(fd, cat, evt));
      } catch (e) {
        throw locatedAt(e, this.#obj.source, { fn: opts.fnName });
      }
    }
  }

  attachRawTracepoint(opts: { tp: string; fnName: string }): void {
    if (this.#links.has(`raw:${opts.tp}`)) throw new AttachError(`raw tracepoint ${opts.tp}`, "already attached by this BPF object");
    try {
      const fd = this.loadFunc(opts.fnName, ProgType.RAW_TRACEPOINT);
      this.remember(`raw:${opts.tp}`, attachRawTracepoint(fd, opts.tp));
    } catch (e) {
      throw locatedAt(e, this.#obj.source, { fn: opts.fnName });
    }
  }

  /** attach_kprobe / attach_kretprobe: `event`, or every traceable function matching `eventRe`. */
  attachKprobe(opts: { event?: string; fnName: string; eventRe?: string | RegExp }, retprobe: boolean, offset: number, maxactive: number): void {
    try {
      this.#attachKprobe(opts, retprobe, offset, maxactive);
    } catch (e) {
      throw locatedAt(e, this.#obj.source, { fn: opts.fnName });
    }
  }

  #attachKprobe(opts: { event?: string; fnName: string; eventRe?: string | RegExp }, retprobe: boolean, offset: number, maxactive: number): void {
    const kind = retprobe ? "kretprobe" : "kprobe";
    if ((opts.event === undefined) === (opts.eventRe === undefined)) throw new ArgumentError("event", "give exactly one of event or eventRe");
    const keyOf = (ev: string): string => `${kind}:${ev}${offset ? `+${offset}` : ""}`;
    if (!haveKprobes().supported) throw kprobeUnsupported(`${kind}__${opts.event ?? opts.fnName}`);
    removeStaleKprobeEvents(); // Once per process: tracefs probes left by tsbcc processes that were SIGKILLed.
    let events: string[];
    if (opts.eventRe !== undefined) {
      events = kprobeFunctions(opts.eventRe).filter((ev) => !this.#links.has(keyOf(ev)));
      if (events.length === 0) throw new AttachError(`${kind}s matching ${String(opts.eventRe)}`, "no traceable kernel function matches (or all are attached already)");
    } else {
      events = [opts.event!];
      if (this.#links.has(keyOf(opts.event!))) throw new AttachError(`${kind} ${opts.event}`, "already attached by this BPF object");
    }
    checkProbeQuota(events.length);
    const fd = this.loadFunc(opts.fnName, ProgType.KPROBE);
    let firstError: unknown;
    let attached = 0;
    for (const ev of events) {
      let link: Link;
      try {
        link = maxactive > 0 ? attachKprobeTracefs(fd, ev, { retprobe, offset, maxactive }) : attachKprobe(fd, ev, { offset, retprobe });
      } catch (e) {
        // With a pattern, like BCC: skip functions that refuse a probe; fail only when none took one.
        if (opts.eventRe === undefined) throw e;
        firstError ??= e;
        continue;
      }
      link.onClose(countProbe());
      this.remember(keyOf(ev), link);
      attached++;
    }
    if (attached === 0) throw firstError;
  }

  /** The program function for a BTF-attached name given with or without its prefix (BCC adds it when missing). */
  btfFunction(prefix: string, name: string): string {
    const names = this.#names;
    if (names.includes(name)) return name;
    const bare = name.startsWith(prefix) ? name.slice(prefix.length) : name;
    const hit = names.find((f) => f === prefix + bare || f === `${prefix}vmlinux__${bare}`) ??
      names.find((f) => f.startsWith(prefix) && f.endsWith(`__${bare}`));
    if (!hit) throw new NoSuchFunctionError(name, names, `no ${prefix}* function for "${name}" in this program`);
    return hit;
  }

  attachBtf(kind: BtfKind, fnName: string): void {
    const name = this.btfFunction(`${kind}__`, fnName);
    const key = `${kind}:${name}`;
    if (this.#links.has(key)) throw new AttachError(`${kind} ${name}`, "already attached by this BPF object");
    const section = this.#functions.find((f) => f.name === name)?.section ?? "";
    const target = classifySection(section).target || name;
    let fd: number;
    try {
      fd = this.loadFunc(name, kind === "lsm" ? ProgType.LSM : ProgType.TRACING);
    } catch (e) {
      // Decided by trying: if the feature probe fails too, the kernel refuses the whole program kind.
      const probe = kind === "lsm" ? haveLsm() : haveFentry();
      if (!probe.supported) throw btfProgramUnsupported(kind, target, probe.reason, e);
      throw e;
    }
    this.remember(key, attachBtfProgram(fd, `${kind} ${target} (${name})`));
  }

  detachBtf(kind: BtfKind, fnName: string): void {
    const name = this.btfFunction(`${kind}__`, fnName);
    this.detach(`${kind}:${name}`, `${kind} ${name}`);
  }

  /** BPF_ITER(target): links the iterator program (once). */
  attachIter(fnName: string): Link {
    const name = this.btfFunction("bpf_iter__", fnName);
    const existing = this.#links.get(`iter:${name}`)?.[0];
    if (existing) return existing;
    const link = attachIter(this.loadFunc(name, ProgType.TRACING), `iterator ${name}`);
    this.remember(`iter:${name}`, link);
    return link;
  }

  readIter(fnName: string): string {
    return readIter(this.attachIter(fnName));
  }

  close(): void {
    for (const links of this.#links.values()) for (const l of links) l.close();
    this.#links.clear();
  }

  /** Detaches every link off the event loop, all at once (the kernel's waits overlap on the thread pool). */
  async closeAsync(): Promise<void> {
    const links = [...this.#links.values()].flat();
    this.#links.clear();
    const results = await Promise.allSettled(links.map((l) => l.closeAsync()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}
