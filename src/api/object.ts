// BPFObject: run a standard (libbpf-style) BPF object from TypeScript. Programs attach by their section name;
// maps are typed tables (types from the object's BTF).
import { readFile } from "node:fs/promises";
import { parseObject, LoadedObject, type LoadOptions, type ProgramSpec } from "../loader/index.js";
import { attachTracepoint, attachRawTracepoint, attachBtfProgram, type Link } from "../link/index.js";
import { createTable, type AnyTable } from "./tables/factory.js";
import { btfCodec } from "./tables/codec-btf.js";

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
  /** Attaches where the section name says (tracepoint/cat/evt, raw_tracepoint/evt, fentry/..., lsm/...). */
  attach(): Link {
    const kind = this.#obj.programSpec(this.name).kind;
    const fd = this.load();
    let link: Link;
    switch (kind.attach) {
      case "tracepoint": {
        const [cat, evt] = kind.target.split("/");
        if (!cat || !evt) throw new Error(`program "${this.name}": section "${this.section}" must be tracepoint/<category>/<event>`);
        link = attachTracepoint(fd, cat, evt);
        break;
      }
      case "raw_tracepoint":
        link = attachRawTracepoint(fd, kind.target);
        break;
      case "btf":
        link = attachBtfProgram(fd, `${this.section} (${this.name})`);
        break;
      default:
        throw new Error(`program "${this.name}": attaching section "${this.section}" by name is not supported; attach it explicitly`);
    }
    this.#links.push(link);
    return link;
  }
  detachAll(): void {
    for (const l of this.#links.splice(0)) l.close();
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
    const bytes = typeof pathOrBuffer === "string" ? new Uint8Array(await readFile(pathOrBuffer)) : pathOrBuffer;
    return BPFObject.fromBytes(bytes, options);
  }

  static fromBytes(bytes: Uint8Array, options: BPFObjectOptions = {}): BPFObject {
    const loaded = new LoadedObject(parseObject(bytes), options);
    const obj = new BPFObject(loaded);
    if (options.eager !== false) {
      try {
        for (const p of loaded.spec.programs) if (p.kind.progType !== 0) loaded.loadProgram(p.name);
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
    if (!p) throw new Error(`no program named "${name}" (programs: ${this.programNames.join(", ") || "none"})`);
    return p;
  }

  /** The map as a typed table (cached). */
  map<T extends AnyTable = any>(name: string): T {
    const cached = this.#tables.get(name);
    if (cached) return cached as T;
    const m = this.loaded.maps.get(name);
    if (!m) throw new Error(`no map named "${name}" (maps: ${this.mapNames.join(", ") || "none"})`);
    const btf = this.loaded.spec.btf?.btf;
    const s = m.spec;
    const table = createTable(
      { name, mapType: s.type, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, flags: s.flags },
      m.fd,
      { key: btf && s.btfKeyTypeId ? btfCodec(btf, s.btfKeyTypeId) : undefined, value: btf && s.btfValueTypeId ? btfCodec(btf, s.btfValueTypeId) : undefined },
    );
    this.#tables.set(name, table);
    return table as T;
  }

  /** Attaches every program whose section names its attach point. */
  attachAll(): Link[] {
    return [...this.#programs.values()].filter((p) => ["tracepoint", "raw_tracepoint", "btf"].includes(this.loaded.programSpec(p.name).kind.attach)).map((p) => p.attach());
  }

  close(): void {
    for (const p of this.#programs.values()) p.detachAll();
    this.loaded.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
