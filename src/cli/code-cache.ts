// V8's code cache for the `tsbcc` command (its entry, cli/launch.ts, is bundled to dist/src/cli/tsbcc.mjs and runs
// the bundled command line, tsbcc-main.cjs beside it, see scripts/bundle.mjs, through here). Compiling the ~1 MB bundle is ~15 ms
// of every start (about a sixth of a tool's start-up); with the cache V8 deserializes the compiled code instead.
//
// The cache is `<cache root>/v8/<sha1 of the bundle, node version, arch>.bin`, written once (at exit of the first
// run that found none, so it holds the functions that run used). V8 checks it against the source length and its
// own version and flags and rejects a mismatch, then it is rewritten. V8 does not harden deserialization against
// hostile bytes, so the directory and file follow src/store's rules (ours, closed to others, read without
// following links), like the compiled BPF objects next to them, which are loaded into the kernel as they are.
// TSBCC_CODE_CACHE=0 turns it off.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { defaultCacheRoot } from "../dialect/cache.js";
import { bytesOf, privateRoot, privateSubdir, readPrivateFile, writePrivateFileQuiet } from "../store/index.js";

/** Where the cache for `source` lives, or undefined when it is off or no private directory can be had. */
function cacheFile(source: Buffer): string | undefined {
  if (process.env.TSBCC_CODE_CACHE === "0") return undefined;
  try {
    const key = createHash("sha1").update(bytesOf(source)).update(`\0${process.version}\0${process.arch}`).digest("hex");
    return join(privateSubdir(privateRoot(defaultCacheRoot()), "v8"), `${key}.bin`);
  } catch {
    return undefined; // a cache problem never stops the command; it runs uncached
  }
}

/** Caches kept per cache root (one per installed tsbcc version in use); older ones are removed on save. */
const KEEP = 4;

function pruneOthers(kept: string): void {
  try {
    const dir = dirname(kept);
    const others = readdirSync(dir).filter((n) => n.endsWith(".bin") && join(dir, n) !== kept)
      .map((n) => ({ path: join(dir, n), mtime: statSync(join(dir, n)).mtimeMs })).sort((a, b) => b.mtime - a.mtime);
    for (const o of others.slice(KEEP - 1)) rmSync(o.path, { force: true });
  } catch {
    // pruning is housekeeping: never an error of the command
  }
}

/** A CommonJS file compiled with its code cache: `status` says what the cache did; `save()` (re)writes it. */
export interface CachedScript {
  status: "hit" | "miss" | "rejected" | "off";
  /** Runs the module once; returns its exports. */
  run(): unknown;
  /** Writes the code cache (with every function compiled so far); false when it could not. */
  save(): boolean;
}

export function compileCached(file: string): CachedScript {
  const bytes = readFileSync(file);
  const where = cacheFile(bytes);
  const cached = where ? readPrivateFile(where) : undefined;
  const source = bytes.toString("utf8").replace(/^#!.*/, "");
  // No import() callback: a script restored from the cache loses it in Node 20, so the bundle has none (its lazy
  // imports are require calls, see scripts/bundle.mjs).
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData: cached });
  return {
    status: !where ? "off" : !cached ? "miss" : script.cachedDataRejected ? "rejected" : "hit",
    run() {
      const mod = { exports: {} as unknown };
      const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
      wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
      return mod.exports;
    },
    save: () => {
      if (where === undefined || !writePrivateFileQuiet(where, bytesOf(script.createCachedData()))) return false;
      pruneOthers(where);
      return true;
    },
  };
}

/** Runs the CommonJS bundle `file` through its code cache, written at exit when there was none (or a stale one). */
export function runCached(file: string): unknown {
  const c = compileCached(file);
  if (c.status === "miss" || c.status === "rejected") process.once("exit", () => c.save());
  return c.run();
}
