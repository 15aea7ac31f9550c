// BPFObject: run a standard (libbpf-style) BPF object from TypeScript. Programs attach by their section name;
// maps are typed tables (types from the object's BTF).
import { readFile } from "node:fs/promises";
import { parseObject, LoadedObject, type LoadOptions, type ProgramSpec } from "../loader/index.js";
import { attachTracepoint, attachRawTracepoint, attachBtfProgram, attachKprobe, type Link } from "../link/index.js";
import { ProgType } from "../sys/abi.js";
import { ArgumentError, NoSuchFunctionError } from "../errors.js";
import type { AnyTable } from "./tables/factory.js";
import { tableOf } from "./tables/from-object.js";

export interface BPFObjectOptions extends LoadOptions {
  /** Load programs with a known type right away (default true); otherwise on first use. */
  eager?: boolean;
}

export class Program {
  readonly name: string;
  readonly section: string;
  readonly #obj: LoadedObject;
  readonly #links: Link[] = [];
  constructor(obj: LoadedObject, spec: ProgramSpec) {
    this.#obj = obj;
    this.name = spec.name;
    this.section = spec.section;
  }
  /** Loads the program (once). `progType` is needed for sections that do not imply a type. */
  load(progType?: number): number {
    return this.#obj.loadProgram(this.name, progType).fd.value;
  }
  get fd(): number {
    return this.load();
  }
  /** Verifier log of the load, when a log level was requested. */
  get log(): string | undefined {
    return (this.#obj.loadedProgram(this.name) as { log?: string } | undefined)?.log;
  }
  /** Attaches where the section name says (tracepoint/cat/evt, raw_tracepoint/evt, kprobe/fn, fentry/..., lsm/...). */
  attach(): Link {
    const kind = this.#obj.programSpec(this.name).kind;
    const fd = this.load();
    let link: Link;
    switch (kind.attach) {
      case "tracepoint": {
        const [cat, evt] = kind.target.split("/");
        if (!cat || !evt) throw new ArgumentError("section", `program "${this.name}": section "${this.section}" must be tracepoint/<category>/<event>`);
        link = attachTracepoint(fd, cat, evt);
        break;
      }
      case "raw_tracepoint":
        link = attachRawTracepoint(fd, kind.target);
        break;
      case "kprobe":
      case "kretprobe":
        link = attachKprobe(fd, kind.target, { retprobe: kind.attach === "kretprobe" });
        break;
      case "btf":
        link = attachBtfProgram(fd, `${this.section} (${this.name})`);
        break;
      default:
        throw new ArgumentError("section", `program "${this.name}": section "${this.section}" does not name an attach point; ` +
          "attach its fd yourself (e.g. through src/net/ or a perf event)");
    }
    this.#links.push(link);
    return link;
  }
  detachAll(): void {
    for (const l of this.#links.splice(0)) l.close();
  }
  /** detachAll() off the event loop (see BPF.closeAsync). */
  async detachAllAsync(): Promise<void> {
    await Promise.all(this.#links.splice(0).map((l) => l.closeAsync()));
  }
}

export class BPFObject {
  readonly loaded: LoadedObject;
  readonly #programs = new Map<string, Program>();
  readonly #tables = new Map<string, AnyTable>();

  private constructor(loaded: LoadedObject) {
    this.loaded = loaded;
    for (const p of loaded.spec.programs) this.#programs.set(p.name, new Program(loaded, p));
  }

  /** Parses, creates maps and (by default) loads every program whose type its section implies. */
  static async load(pathOrBuffer: string | Uint8Array, options: BPFObjectOptions = {}): Promise<BPFObject> {
    let bytes: Uint8Array;
    try {
      bytes = typeof pathOrBuffer === "string" ? new Uint8Array(await readFile(pathOrBuffer)) : pathOrBuffer;
    } catch (e) {
      throw new ArgumentError("path", `cannot read ${String(pathOrBuffer)}: ${(e as Error).message}`);
    }
    return BPFObject.fromBytes(bytes, options);
  }

  static fromBytes(bytes: Uint8Array, options: BPFObjectOptions = {}): BPFObject {
    const loaded = new LoadedObject(parseObject(bytes), options);
    const obj = new BPFObject(loaded);
    if (options.eager !== false) {
      try {
        for (const p of loaded.spec.programs) if (p.kind.progType !== ProgType.UNSPEC) loaded.loadProgram(p.name);
      } catch (e) {
        obj.close();
        throw e;
      }
    }
    return obj;
  }

  get programNames(): string[] {
    return [...this.#programs.keys()];
  }
  get mapNames(): string[] {
    return [...this.loaded.maps.keys()];
  }

  program(name: string): Program {
    const p = this.#programs.get(name);
    if (!p) throw new NoSuchFunctionError(name, this.programNames, `no program named "${name}"`);
    return p;
  }

  /** The map as a typed table (cached). */
  map<T extends AnyTable = any>(name: string): T {
    const cached = this.#tables.get(name);
    if (cached) return cached as T;
    const table = tableOf(this.loaded, name, { what: "map" });
    this.#tables.set(name, table);
    return table as T;
  }

  /** Attaches every program whose section names its attach point completely (the loader's section rule). */
  attachAll(): Link[] {
    return [...this.#programs.values()].filter((p) => this.loaded.programSpec(p.name).kind.autoload).map((p) => p.attach());
  }

  close(): void {
    for (const p of this.#programs.values()) p.detachAll();
    this.loaded.close();
  }

  /** close() with the detaches on libuv's thread pool: the event loop does not wait for the kernel's RCU. */
  async closeAsync(): Promise<void> {
    try {
      await Promise.all([...this.#programs.values()].map((p) => p.detachAllAsync()));
    } finally {
      this.loaded.close();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeAsync();
  }
}
