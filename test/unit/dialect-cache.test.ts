// Compile cache: warm compiles do not run clang; entries that others could have written are not trusted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileDialect } from "../../src/dialect/index.js";
import { CompileCache, cacheKey } from "../../src/dialect/cache.js";
import { FORMATS, MINI, skipReason } from "../fixtures/dialect/harness.js";

const PROGRAM = `#include <linux/sched.h>
BPF_HASH(counts, u32);
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  counts.increment(pid);
  return 0;
}
`;

/** A clang wrapper that logs each invocation, so a test can tell whether clang ran. */
function loggingClang(dir: string): { path: string; log: string } {
  const log = join(dir, "clang.log");
  const path = join(dir, "clang");
  writeFileSync(path, `#!/bin/sh\necho "$@" >> ${log}\nexec /usr/bin/clang "$@"\n`, { mode: 0o755 });
  writeFileSync(log, "");
  return { path, log };
}

function lines(path: string): number {
  return readFileSync(path, "utf8").split("\n").filter(Boolean).length;
}

test("a warm compile is served from the cache without running clang", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-cache-test-"));
  const clang = loggingClang(dir);
  const saved = process.env.TSBCC_CLANG;
  process.env.TSBCC_CLANG = clang.path;
  try {
    const opts = { text: PROGRAM, fileName: "prog.c", kernelTypes: MINI, tracepointFormats: FORMATS, cacheDir: join(dir, "cache") };
    const cold = await compileDialect(opts);
    assert.equal(cold.fromCache, false);
    const ran = lines(clang.log);
    assert.ok(ran >= 2, `clang ran ${ran} times on the cold compile`);
    const t0 = performance.now();
    const warm = await compileDialect(opts);
    const ms = performance.now() - t0;
    assert.equal(warm.fromCache, true);
    assert.equal(lines(clang.log), ran, "no clang run on the warm compile");
    assert.deepEqual(warm.metadata, cold.metadata);
    assert.equal(warm.rewritten, cold.rewritten);
    assert.deepEqual([...warm.object], [...cold.object]);
    assert.ok(ms < 100, `warm compile took ${ms.toFixed(1)} ms`);
    // A different source, cflag or file name is a different entry.
    const other = await compileDialect({ ...opts, cflags: ["-DX=1"] });
    assert.equal(other.fromCache, false);
    const renamed = await compileDialect({ ...opts, fileName: "other.c" });
    assert.equal(renamed.fromCache, false);
  } finally {
    if (saved === undefined) delete process.env.TSBCC_CLANG;
    else process.env.TSBCC_CLANG = saved;
  }
});

test("cache directories are private; entries with a bad mode or owner are ignored and replaced", async (t) => {
  if (skipReason()) return t.skip(skipReason());
  const root = join(mkdtempSync(join(tmpdir(), "tsbcc-cache-perm-")), "cache");
  const opts = { text: PROGRAM, fileName: "prog.c", kernelTypes: MINI, tracepointFormats: FORMATS, cacheDir: root };
  await compileDialect(opts);
  assert.equal(statSync(root).mode & 0o777, 0o700);
  assert.equal(statSync(join(root, "dialect")).mode & 0o777, 0o700);
  const entries = readdirSync(join(root, "dialect")).filter((f) => f.endsWith(".bin"));
  assert.equal(entries.length, 1);
  const entry = join(root, "dialect", entries[0]!);
  assert.equal(statSync(entry).mode & 0o777, 0o600);

  chmodSync(entry, 0o666); // writable by anyone: not trusted
  const a = await compileDialect(opts);
  assert.equal(a.fromCache, false);
  assert.equal(statSync(entry).mode & 0o777, 0o600, "replaced by a private entry");
  assert.equal((await compileDialect(opts)).fromCache, true);

  if (process.geteuid?.() === 0) {
    chownSync(entry, 12345, 12345); // someone else's file
    const b = await compileDialect(opts);
    assert.equal(b.fromCache, false);
    assert.equal(statSync(entry).uid, 0);
  }

  // A group-accessible cache directory is tightened to 0700 before use.
  chmodSync(join(root, "dialect"), 0o770);
  const c = new CompileCache(root);
  assert.equal(c.root, root);
  assert.ok(c.dir);
  assert.equal(statSync(join(root, "dialect")).mode & 0o777, 0o700);
});

test("corrupt entries are dropped", () => {
  const root = join(mkdtempSync(join(tmpdir(), "tsbcc-cache-corrupt-")), "cache");
  const c = new CompileCache(root);
  assert.equal(c.root, root, "a fresh directory of our own is used as the cache");
  const key = cacheKey({ a: 1 });
  c.put(key, new Uint8Array([1, 2, 3]), { metadata: { x: 1 } });
  const hit = c.get(key);
  assert.ok(hit);
  assert.deepEqual([...hit.object], [1, 2, 3]);
  assert.deepEqual((hit.info as { metadata: unknown }).metadata, { x: 1 });
  writeFileSync(join(root, "dialect", `${key}.bin`), "garbage", { mode: 0o600 });
  assert.equal(c.get(key), undefined);
  assert.deepEqual(readdirSync(join(root, "dialect")), []);
});

for (const damage of ["truncated", "bit-flipped", "emptied"] as const) {
  test(`a damaged entry (${damage}) is compiled again, with a warning naming the file`, async (t) => {
    if (skipReason()) return t.skip(skipReason());
    const root = join(mkdtempSync(join(tmpdir(), "tsbcc-cache-heal-")), "cache");
    const opts = { text: PROGRAM, fileName: "prog.c", kernelTypes: MINI, tracepointFormats: FORMATS, cacheDir: root };
    const cold = await compileDialect(opts);
    const [name] = readdirSync(join(root, "dialect"));
    const file = join(root, "dialect", name!);
    const bytes = new Uint8Array(readFileSync(file));
    if (damage === "truncated") writeFileSync(file, bytes.subarray(0, bytes.length - 7));
    else if (damage === "emptied") writeFileSync(file, "");
    else {
      bytes[bytes.length - 100]! ^= 0x01;
      writeFileSync(file, bytes);
    }
    const warnings: string[] = [];
    const on = (w: Error): void => void warnings.push(w.message);
    process.on("warning", on);
    try {
      const healed = await compileDialect(opts);
      await new Promise((r) => setImmediate(r));
      assert.equal(healed.fromCache, false, "recompiled");
      assert.deepEqual([...healed.object], [...cold.object]);
      assert.ok(warnings.some((w) => w.includes(file) && /damaged cache entry/.test(w)), warnings.join("\n"));
    } finally {
      process.off("warning", on);
    }
    assert.equal((await compileDialect(opts)).fromCache, true, "the rewritten entry is used again");
  });
}
