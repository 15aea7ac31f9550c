// Malformed-input robustness: truncate and corrupt valid files and require that every query either
// succeeds or throws ElfError (never another exception type, never a hang).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ElfError, ElfFile } from "../../src/elf/index.js";
import { exerciseAll, findTool, sampleExecutable, sampleObject, seededRandom, tempDir } from "../helpers/elf.js";
import { mutateBytes } from "../helpers/mutate.js";

interface Outcome { ok: number; elfErrors: number }

/** Parses and fully exercises `bytes`; any non-ElfError exception fails the test with a reproducer. */
function check(bytes: Uint8Array, label: string, outcome: Outcome): void {
  try {
    exerciseAll(ElfFile.parse(bytes));
    outcome.ok++;
  } catch (e) {
    if (!(e instanceof ElfError)) {
      assert.fail(`${label}: expected ElfError, got ${(e as Error)?.stack ?? String(e)}`);
    }
    assert.ok(e.message.length > 10, `${label}: error message too short: ${e.message}`);
    outcome.elfErrors++;
  }
}

/** Byte ranges worth corrupting: headers, tables and metadata sections (not code or debug info). */
function structuralRanges(bytes: Uint8Array): [number, number][] {
  const f = ElfFile.parse(bytes);
  const ranges: [number, number][] = [[0, 64]];
  if (f.header.shoff) ranges.push([f.header.shoff, f.header.shnum * 64]);
  if (f.header.phoff) ranges.push([f.header.phoff, f.header.phnum * 56]);
  for (const s of f.sections) {
    // symtab, strtab, rela, rel, dynsym, note, and small named metadata sections
    if ([2, 3, 4, 7, 9, 11].includes(s.type) || s.name === ".gnu_debuglink") {
      ranges.push([s.offset, Math.min(s.size, 4096)]);
    }
  }
  return ranges.filter(([, len]) => len > 0);
}

function fixtures(): { name: string; bytes: Uint8Array }[] {
  const list = [
    { name: "crafted object", bytes: sampleObject().bytes },
    { name: "crafted executable", bytes: sampleExecutable().bytes },
  ];
  if (findTool("clang")) {
    const dir = tempDir("elf-fuzz");
    try {
      writeFileSync(join(dir, "p.c"), [
        "struct { int (*type)[2]; int (*max_entries)[1]; int *key; long *value; } arr __attribute__((section(\".maps\"), used));",
        "static void *(*lookup)(void *, const void *) = (void *)1;",
        "__attribute__((section(\"kprobe/do_nanosleep\"), used)) int probe(void *ctx) { int k = 0; long *v = lookup(&arr, &k); if (v) *v += 1; return 0; }",
        "char lic[] __attribute__((section(\"license\"), used)) = \"GPL\";",
      ].join("\n"));
      execFileSync("clang", ["-target", "bpf", "-O2", "-g", "-c", "p.c", "-o", "p.o"], { cwd: dir, stdio: "pipe" });
      list.push({ name: "clang BPF object", bytes: new Uint8Array(readFileSync(join(dir, "p.o"))) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (existsSync("/bin/ls")) list.push({ name: "/bin/ls", bytes: new Uint8Array(readFileSync("/bin/ls")) });
  return list;
}

const inputs = fixtures();

test("fixtures parse cleanly before being damaged", () => {
  assert.ok(inputs.length >= 2);
  for (const { name, bytes } of inputs) {
    const outcome = { ok: 0, elfErrors: 0 };
    check(bytes, name, outcome);
    assert.deepEqual(outcome, { ok: 1, elfErrors: 0 }, name);
  }
});

test("truncation at every 7th length yields a parse or ElfError", { timeout: 120_000 }, () => {
  for (const { name, bytes } of inputs) {
    const outcome = { ok: 0, elfErrors: 0 };
    // Large files: every 7th length near the structures, a coarser stride elsewhere.
    const stride = bytes.length > 64 * 1024 ? 97 : 7;
    for (let len = 0; len < bytes.length; len += len < 4096 ? 7 : stride) {
      check(bytes.subarray(0, len), `${name} truncated to ${len} bytes`, outcome);
    }
    // The section header table sits at the end, so cutting anything off is detected.
    assert.equal(outcome.ok, 0, `${name}: truncated copies must not parse`);
    assert.ok(outcome.elfErrors > 10, name);
  }
});

test("random corruption with a fixed seed yields a parse or ElfError", { timeout: 120_000 }, () => {
  for (const [n, { name, bytes }] of inputs.entries()) {
    const rand = seededRandom(0x5eed + n);
    const ranges = structuralRanges(bytes);
    const outcome = { ok: 0, elfErrors: 0 };
    const rounds = bytes.length > 64 * 1024 ? 1500 : 4000;
    for (let i = 0; i < rounds; i++) {
      check(mutateBytes(bytes, rand, ranges), `${name} mutant ${i} (seed ${0x5eed + n})`, outcome);
    }
    assert.equal(outcome.ok + outcome.elfErrors, rounds);
    assert.ok(outcome.ok > 0 && outcome.elfErrors > 0, `${name}: ${JSON.stringify(outcome)}`);
  }
});

test("every single-byte corruption of the crafted files' headers and tables", { timeout: 120_000 }, () => {
  for (const { name, bytes } of inputs.slice(0, 2)) {
    const outcome = { ok: 0, elfErrors: 0 };
    for (const [start, len] of structuralRanges(bytes)) {
      for (let at = start; at < start + len; at++) {
        for (const value of [0x00, 0xff, 0x80, bytes[at]! + 1]) {
          const copy = bytes.slice();
          copy[at] = value & 0xff;
          check(copy, `${name} byte ${at} = ${value & 0xff}`, outcome);
        }
      }
    }
    assert.ok(outcome.ok > 0 && outcome.elfErrors > 0, `${name}: ${JSON.stringify(outcome)}`);
  }
});
