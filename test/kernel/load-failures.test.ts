// Tier 2 (issue 9, item 3): a load that fails leaves nothing behind and says why with a TsbccError. Constants that
// do not fit, unknown constant names, and seeded ELF/BTF mutations of a real object (bounded by rounds and time).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BPFObject } from "../../src/api/object.js";
import { TsbccError, ArgumentError } from "../../src/errors.js";
import { ElfFile } from "../../src/elf/index.js";
import { liveFds } from "../../src/sys/index.js";
import { bpfObject } from "../helpers/build.js";
import { missing } from "../helpers/root.js";
import { bounded, mutateBytes, seeded } from "../helpers/mutate.js";

const skip = missing("clang", "root");

const SRC = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, unsigned int); __type(value, unsigned long long); __uint(max_entries, 8); } counts SEC(".maps");
const volatile unsigned int target_pid = 0;
const volatile unsigned char verbose = 0;
unsigned long long seen = 0;
SEC("tracepoint/syscalls/sys_enter_getppid") int on_getppid(void *ctx) {
  unsigned int k = target_pid;
  unsigned long long one = 1, *v = bpf_map_lookup_elem(&counts, &k);
  if (v) *v += one; else bpf_map_update_elem(&counts, &k, &one, BPF_ANY);
  if (verbose) seen++;
  return 0;
}
char LICENSE[] SEC("license") = "GPL";`;

function loadRejects(constants: Record<string, unknown>, pattern: RegExp): void {
  const bytes = bpfObject(SRC);
  const before = liveFds().size;
  assert.throws(() => BPFObject.fromBytes(bytes, { constants: constants as never }), (e: unknown) => {
    assert.ok(e instanceof ArgumentError, `${JSON.stringify(constants, (_k, v) => typeof v === "bigint" ? String(v) : v)}: ${String(e)}`);
    assert.equal(e.argument, "constants");
    assert.match(e.message, pattern);
    return true;
  });
  assert.equal(liveFds().size, before, "a refused constant leaves no map or BTF fd behind");
}

test("constants that do not fit are ArgumentErrors and leak nothing", { skip }, () => {
  loadRejects({ target_pid: 2 ** 40 }, /target_pid.*4 bytes.*1099511627776/);
  loadRejects({ target_pid: 1.5 }, /target_pid.*integer/);
  loadRejects({ target_pid: NaN }, /target_pid.*integer/);
  loadRejects({ target_pid: new Uint8Array(2) }, /target_pid.*4 bytes.*2 bytes/);
  loadRejects({ target_pid: "7" }, /target_pid.*number, bigint, boolean or Uint8Array/);
  loadRejects({ verbose: 256 }, /verbose.*1 byte/);
  loadRejects({ target_pid: -(2 ** 31) - 1 }, /target_pid/);
});

test("an unknown constant name is refused, listing the known ones", { skip }, () => {
  loadRejects({ target_pdi: 1 }, /unknown constant "target_pdi".*known: .*seen.*target_pid.*verbose/);
});

test("constants that fit are written and the object loads", { skip }, () => {
  const before = liveFds().size;
  const obj = BPFObject.fromBytes(bpfObject(SRC), { constants: { target_pid: 0xffffffff, verbose: true, seen: 5n } });
  obj.close();
  assert.equal(liveFds().size, before);
});

/** Headers, the section table and every non-code section (maps, globals, BTF, relocations, symbols). */
function structuralRanges(bytes: Uint8Array): [number, number][] {
  const f = ElfFile.parse(bytes);
  const ranges: [number, number][] = [[0, 64], [Number(f.header.shoff), f.header.shnum * 64]];
  for (const s of f.sections) {
    if (s.type === 8 || s.size === 0) continue; // NOBITS has no bytes in the file
    if ((Number(s.flags) & 4) !== 0) continue; // SHF_EXECINSTR: program code is the verifier's to judge
    ranges.push([Number(s.offset), Math.min(Number(s.size), 4096)]);
  }
  return ranges;
}

test("seeded ELF/BTF mutations: every failure is a TsbccError and releases everything", { skip, timeout: 120_000 }, () => {
  const bytes = bpfObject(SRC);
  const ranges = structuralRanges(bytes);
  // Two seeds: one aimed at the structures, one anywhere in the file (the relocation-offset bug came from there).
  const seed = 0x9e3779b9;
  const rand = seeded(seed), anywhere = seeded(15838);
  const before = liveFds().size;
  const outcome = { loaded: 0, refused: 0 };
  const rounds = bounded(3000, 40_000, (i) => {
    const mutant = i % 2 ? mutateBytes(bytes, anywhere, []) : mutateBytes(bytes, rand, ranges);
    let obj: BPFObject | undefined;
    try {
      obj = BPFObject.fromBytes(mutant, { constants: { target_pid: 1 } });
      outcome.loaded++;
    } catch (e) {
      if (!(e instanceof TsbccError)) assert.fail(`seed ${seed} round ${i}: untyped ${(e as Error)?.stack ?? String(e)}`);
      outcome.refused++;
    } finally {
      obj?.close();
    }
    assert.equal(liveFds().size, before, `seed ${seed} round ${i}: fds left behind (${[...liveFds().values()].join(", ")})`);
  });
  assert.ok(rounds >= 200, `only ${rounds} rounds ran in the time budget`);
  assert.ok(outcome.refused > 0 && outcome.loaded > 0, JSON.stringify(outcome));
});
