// Run-time constants of a tool's program: filter values (-p PID, -u UID, --errno, a minimum latency) are declared
// as `const volatile` globals and filled in at load (read-only data the verifier treats as constants), not written
// into the program text. The text, and so the compiled object in the cache, is then the same for every value: a
// new -p PID starts from the cache instead of a fresh clang compile. The names share the program's namespace with
// the kernel types generated from BTF (the kernel has an enum constant FILTER_CPU): a clash is a compile error.

type ConstantType = "u32" | "s32" | "u64" | "s64";

export class ToolConstants {
  readonly values: Record<string, number | bigint> = {};

  /** `inline`: write the values into the text as #defines (for a text another runtime compiles, e.g. BCC's). */
  constructor(readonly inline = false) {}

  /** The declaration of NAME for the program text; its value is set at load. */
  #declare(type: ConstantType, name: string, value: number | bigint): string {
    if (this.inline) return `#define ${name} ${value}`;
    this.values[name] = value;
    return `const volatile ${type} ${name} = 0;`;
  }

  u32(name: string, value: number): string {
    return this.#declare("u32", name, value);
  }

  s32(name: string, value: number): string {
    return this.#declare("s32", name, value);
  }

  u64(name: string, value: number | bigint): string {
    return this.#declare("u64", name, value);
  }

  s64(name: string, value: number | bigint): string {
    return this.#declare("s64", name, value);
  }
}

/** A tool's program text, or a builder that declares its run-time constants on the ToolConstants it is given. */
export type ProgramText = string | ((k: ToolConstants) => string);
