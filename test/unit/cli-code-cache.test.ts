// Tier 1: the tsbcc command's V8 code cache (src/cli/code-cache.ts): written into a private directory, used on
// the next start, rejected (and rewritten) when damaged, ignored when not private, keyed by the source, and off
// with TSBCC_CODE_CACHE=0. The bundled command itself runs through it in the CLI tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const MODULE = fileURLToPath(new URL("../../src/cli/code-cache.js", import.meta.url));

/**
 * compileCached in a fresh process (V8's in-process compilation cache would answer a second compile of the same
 * source here without looking at the cache file): its status, what run() returned, and save()'s result.
 */
function compileCached(file: string): { status: string; exports: { answer: number; file: string; req: string }; saved: boolean } {
  const script = `const { compileCached } = await import(${JSON.stringify(MODULE)});
const c = compileCached(${JSON.stringify(file)});
const exports = c.run();
console.log(JSON.stringify({ status: c.status, exports, saved: c.save() }));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { env: process.env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
}

function withCacheDir(fn: (dir: string, cacheDir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-code-cache-"));
  const cacheDir = join(dir, "cache");
  const saved = { root: process.env.TSBCC_CACHE_DIR, off: process.env.TSBCC_CODE_CACHE };
  process.env.TSBCC_CACHE_DIR = cacheDir;
  delete process.env.TSBCC_CODE_CACHE;
  try {
    fn(dir, cacheDir);
  } finally {
    if (saved.root === undefined) delete process.env.TSBCC_CACHE_DIR;
    else process.env.TSBCC_CACHE_DIR = saved.root;
    if (saved.off !== undefined) process.env.TSBCC_CODE_CACHE = saved.off;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A CommonJS module big enough for V8 to bother (a cache of a tiny script may be empty). */
function fixture(dir: string, answer: number): string {
  const file = join(dir, "bundle.cjs");
  const fns = Array.from({ length: 300 }, (_, i) => `function f${i}(x) { return x * ${i} + ${i % 7}; }`).join("\n");
  writeFileSync(file, `#!/usr/bin/env node\n${fns}\nmodule.exports = { answer: f1(${answer}) - 1, file: __filename, req: typeof require };\n`);
  return file;
}

test("code cache: miss, saved 0600 in <root>/v8, then a hit that runs the same module", () => {
  withCacheDir((dir, cacheDir) => {
    const file = fixture(dir, 42);
    const first = compileCached(file);
    assert.equal(first.status, "miss");
    assert.deepEqual(first.exports, { answer: 42, file, req: "function" });
    assert.equal(first.saved, true);
    const entries = readdirSync(join(cacheDir, "v8"));
    assert.equal(entries.length, 1);
    assert.match(entries[0], /^[0-9a-f]{40}\.bin$/);
    assert.equal(statSync(join(cacheDir, "v8", entries[0])).mode & 0o777, 0o600);
    assert.equal(statSync(join(cacheDir, "v8")).mode & 0o777, 0o700);
    const second = compileCached(file);
    assert.equal(second.status, "hit");
    assert.deepEqual(second.exports, { answer: 42, file, req: "function" });
  });
});

test("code cache: a damaged cache is rejected by V8, the module still runs, and saving replaces it", () => {
  withCacheDir((dir, cacheDir) => {
    const file = fixture(dir, 7);
    assert.equal(compileCached(file).saved, true);
    const entry = join(cacheDir, "v8", readdirSync(join(cacheDir, "v8"))[0]);
    writeFileSync(entry, new Uint8Array(4096).fill(0x5a));
    const damaged = compileCached(file);
    assert.equal(damaged.status, "rejected");
    assert.equal(damaged.exports.answer, 7);
    assert.equal(damaged.saved, true);
    assert.equal(compileCached(file).status, "hit");
  });
});

test("code cache: a cache file others could write is removed and not used", () => {
  withCacheDir((dir, cacheDir) => {
    const file = fixture(dir, 1);
    assert.equal(compileCached(file).saved, true);
    const entry = join(cacheDir, "v8", readdirSync(join(cacheDir, "v8"))[0]);
    chmodSync(entry, 0o666);
    assert.equal(compileCached(file).status, "miss", "not used");
    assert.equal(statSync(entry).mode & 0o777, 0o600, "removed, then written anew by the save");
  });
});

test("code cache: keyed by the source (an edited bundle misses, old caches are pruned); TSBCC_CODE_CACHE=0 turns it off", () => {
  withCacheDir((dir) => {
    const file = fixture(dir, 3);
    assert.equal(compileCached(file).saved, true);
    fixture(dir, 4);
    const edited = compileCached(file);
    assert.equal(edited.status, "miss");
    assert.equal(edited.exports.answer, 4);
    for (let v = 5; v < 9; v++) {
      fixture(dir, v);
      assert.equal(compileCached(file).saved, true);
    }
    assert.equal(readdirSync(join(dir, "cache", "v8")).length, 4, `at most 4 caches kept per root: ${readdirSync(join(dir, "cache", "v8")).join(" ")}`);
    process.env.TSBCC_CODE_CACHE = "0";
    const off = compileCached(file);
    assert.equal(off.status, "off");
    assert.equal(off.saved, false);
    assert.equal(off.exports.answer, 8);
  });
});
