// C++ (and Rust) name demangling through the `gecko-profiler-demangle` package (the Firefox profiler's
// demangler: Rust's cpp_demangle and rustc-demangle compiled to WebAssembly). Its entry module imports the
// .wasm file as an ES module, which Node 20 cannot do without a flag, so the module is instantiated here from
// the package's own files. Loaded on first use; without the package, names are returned as they are.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

type DemangleFn = (name: string) => string;
/** The slice of the WebAssembly global used here (the project's lib settings do not declare it). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
let demangler: DemangleFn | null | undefined;

function load(): DemangleFn | null {
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve("gecko-profiler-demangle/package.json"));
    // The glue is an ES module without top-level await, which require() loads synchronously (Node >= 20.19);
    // on older Node this throws and names stay mangled.
    const glue = require(join(dir, "index_bg.js")) as { __wbg_set_wasm(w: unknown): void; demangle_any: DemangleFn };
    const module = new WebAssembly.Module(new Uint8Array(readFileSync(join(dir, "index_bg.wasm"))));
    const instance = new WebAssembly.Instance(module, { "./index_bg.js": glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
    return glue.demangle_any;
  } catch {
    return null;
  }
}

/** True when the demangler package is installed and loads. */
export function haveDemangler(): boolean {
  if (demangler === undefined) demangler = load();
  return demangler !== null;
}

/**
 * The demangled form of an Itanium C++ name (`_Z...`); any other name, or one the demangler rejects, is
 * returned unchanged.
 */
export function demangle(name: string): string {
  if (!name.startsWith("_Z")) return name;
  if (demangler === undefined) demangler = load();
  if (!demangler) return name;
  try {
    const out = demangler(name);
    // The demangler falls back to other schemes that may merely strip the underscore from a non-C++ name.
    return out === name.slice(1) ? name : out;
  } catch {
    return name;
  }
}
