// BCC's USDT class: a context for one process (`{ pid }`, probes of its executable and shared libraries) or one
// binary (`{ path }`, a path or library name), whose enableProbe binds a probe to a program function. BPF.load
// takes the contexts, compiles the argument readers they imply (dialect/usdt.ts) and attaches every location.
import { ArgumentError, ErrorCode, TsbccError } from "../errors.js";
import { checkPid, resolveBinary } from "../symbols/libraries.js";
import { closeNames } from "../symbols/resolve.js";
import { describeUsdtArg } from "./args.js";
import { probesOfFile, probesOfProcess, type UsdtProbe } from "./probes.js";

export interface EnabledProbe {
  probe: UsdtProbe;
  fnName: string;
}

export class USDT {
  /** The traced process, when the context was made for one (uprobes are then filtered to it). */
  readonly pid?: number;
  /** The binary, when the context was made for one. */
  readonly path?: string;
  readonly #probes: UsdtProbe[];
  readonly #enabled: EnabledProbe[] = [];

  constructor(opts: { pid?: number; path?: string }) {
    if (opts === null || typeof opts !== "object") throw new ArgumentError("opts", "give { pid } or { path }");
    const { pid, path } = opts;
    if (pid === undefined && path === undefined) throw new ArgumentError("opts", "give { pid } or { path } (or both)");
    if (pid !== undefined) checkPid(pid);
    if (path !== undefined && (typeof path !== "string" || path === "")) throw new ArgumentError("path", "must be a non-empty path or library name");
    this.pid = pid;
    if (path !== undefined) {
      this.path = resolveBinary(path, pid);
      this.#probes = probesOfFile(this.path);
    } else {
      this.#probes = probesOfProcess(pid!);
    }
  }

  /** Every probe of the context (BCC's enumerate_probes). */
  probes(): UsdtProbe[] {
    return [...this.#probes];
  }

  /** The probes bound to functions so far. */
  enabled(): EnabledProbe[] {
    return [...this.#enabled];
  }

  /** Finds `name` or `provider:name`; throws NO_SUCH_PROBE with close names, or when a bare name is ambiguous. */
  findProbe(spec: string): UsdtProbe {
    if (typeof spec !== "string" || spec === "") throw new ArgumentError("probe", "must be a probe name or provider:name");
    const colon = spec.indexOf(":");
    const provider = colon >= 0 ? spec.slice(0, colon) : undefined;
    const name = colon >= 0 ? spec.slice(colon + 1) : spec;
    const hits = this.#probes.filter((p) => p.name === name && (provider === undefined || p.provider === provider));
    const where = this.pid !== undefined ? `process ${this.pid}` : this.path!;
    if (hits.length === 0) {
      const near = closeNames(spec, this.#probes.flatMap((p) => (provider === undefined ? [p.name] : [`${p.provider}:${p.name}`])));
      throw new TsbccError(ErrorCode.NO_SUCH_PROBE, `probe: ${where} has no USDT probe "${spec}"` +
        (this.#probes.length === 0 ? " (it has no USDT probes at all: was it built with sys/sdt.h probes, e.g. --enable-dtrace?)" :
          near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(", ")}?` : ""));
    }
    const providers = new Set(hits.map((p) => `${p.provider}:${p.name}`));
    if (providers.size > 1) {
      throw new TsbccError(ErrorCode.NO_SUCH_PROBE, `probe: "${spec}" is ambiguous in ${where}: ${[...providers].join(", ")}; name the provider`);
    }
    // The same probe may be in several binaries of a process: enableProbe takes them all.
    return hits[0]!;
  }

  /** Binds probe `probe` ("name" or "provider:name") to the program function `fnName`. */
  enableProbe(opts: { probe: string; fnName: string }): this {
    if (opts === null || typeof opts !== "object") throw new ArgumentError("opts", "give { probe, fnName }");
    if (typeof opts.fnName !== "string" || !/^[A-Za-z_]\w*$/.test(opts.fnName)) {
      throw new ArgumentError("fnName", `must be a C function name, got ${JSON.stringify(opts.fnName)}`);
    }
    const first = this.findProbe(opts.probe);
    // Every binary of the context that has this probe (e.g. a probe in a library and in the executable).
    const all = this.#probes.filter((p) => p.provider === first.provider && p.name === first.name);
    for (const probe of all) {
      if (this.#enabled.some((e) => e.probe === probe)) {
        throw new ArgumentError("probe", `${probe.provider}:${probe.name} is already enabled in this context`);
      }
    }
    for (const probe of all) this.#enabled.push({ probe, fnName: opts.fnName });
    return this;
  }

  /** BCC's tplist -l: the USDT probes of a process (pid) or a binary (path or library name). */
  static listProbes(pidOrPath: number | string): UsdtProbe[] {
    if (typeof pidOrPath === "number") {
      checkPid(pidOrPath, "pidOrPath");
      return probesOfProcess(pidOrPath);
    }
    if (typeof pidOrPath !== "string" || pidOrPath === "") throw new ArgumentError("pidOrPath", "must be a pid or a path");
    return probesOfFile(resolveBinary(pidOrPath));
  }

  /** tplist's text: "<bin> <provider>:<name>" per probe; `verbose` adds locations and arguments. */
  static formatProbes(probes: UsdtProbe[], verbose = false): string {
    const lines: string[] = [];
    for (const p of probes) {
      lines.push(`${p.binPath} ${p.provider}:${p.name}`);
      if (!verbose) continue;
      lines.push(`  ${p.locations.length} location(s), ${p.numArguments} argument(s)` +
        (p.semaphore ? `, semaphore 0x${p.semaphore.toString(16)}` : ""));
      for (const loc of p.locations) {
        lines.push(`  location 0x${loc.address.toString(16)}`);
        loc.args.forEach((a, i) => lines.push(`    argument #${i + 1} ${describeUsdtArg(a)}`));
      }
    }
    return lines.join("\n");
  }
}
