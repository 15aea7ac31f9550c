// Tier 2: bad input to the object layer gets a typed error that says what to do, and loses nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdtempSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { BPFObject } from "../../src/api/object.js";
import { ObjectError, VerifierError } from "../../src/loader/index.js";
import { UnknownTracepointError } from "../../src/kernel/tracefs.js";
import { liveFds } from "../../src/sys/index.js";
import { bpfObject } from "../helpers/build.js";
import { missing } from "../helpers/root.js";

const skip = missing("clang", "root");
const here = dirname(fileURLToPath(import.meta.url));

const GOOD = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, unsigned int); __type(value, unsigned long long); __uint(max_entries, 8); } m SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_getppid") int good(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";`;

test("a truncated or corrupted object is an ObjectError, at every length", { skip }, async () => {
  const bytes = bpfObject(GOOD);
  const before = liveFds().size;
  for (let len = 0; len < bytes.byteLength; len += 97) {
    await assert.rejects(BPFObject.load(bytes.subarray(0, len)), (e: unknown) => e instanceof ObjectError || (e as Error).name === "BtfError" || (e as Error).name === "MapDefinitionError",
      `length ${len}`);
  }
  await assert.rejects(BPFObject.load(new TextEncoder().encode("not an elf file at all")), /not a valid BPF object/);
  assert.equal(liveFds().size, before, "failed loads leave no fd behind");
});

test("an unknown tracepoint names itself and suggests close names", { skip }, async () => {
  const obj = await BPFObject.load(bpfObject(GOOD.replace("sys_enter_getppid", "sys_enter_getppidd")));
  try {
    assert.throws(() => obj.program("good").attach(), (e: unknown) => {
      assert.ok(e instanceof UnknownTracepointError);
      assert.match((e as Error).message, /syscalls:sys_enter_getppidd/);
      assert.match((e as Error).message, /sys_enter_getppid\b/);
      return true;
    });
  } finally {
    obj.close();
  }
});

test("a verifier rejection carries the log and points at the C source line", { skip }, async () => {
  const src = GOOD.replace("int good(void *ctx) { return 0; }",
    "int good(void *ctx) {\n  unsigned int k = 1;\n  unsigned long long *v = bpf_map_lookup_elem(&m, &k);\n  return *v; /* no NULL check */\n}");
  const before = liveFds().size;
  await assert.rejects(BPFObject.load(bpfObject(src)), (e: unknown) => {
    assert.ok(e instanceof VerifierError, String(e));
    assert.match(e.log, /invalid mem access|map_value_or_null/);
    assert.ok(e.source, "the failing instruction maps to a source line");
    assert.match(e.source!.text, /return \*v;/);
    assert.match(e.message, /check the result of a map lookup for NULL/);
    return true;
  });
  assert.equal(liveFds().size, before);
});

test("a key of the wrong size or type is refused by the table with the C type named", { skip }, async () => {
  const obj = await BPFObject.load(bpfObject(GOOD));
  try {
    const m = obj.map("m");
    assert.throws(() => m.set("seven", 1n), /unsigned int/);
    assert.throws(() => m.set(new Uint8Array(3), 1n), /4/);
    m.set(7, 42n);
    assert.equal(m.get(7), 42n, "nothing was lost by the failed writes");
  } finally {
    obj.close();
  }
});

test("without privileges the error says to run as root", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-priv-"));
  chmodSync(dir, 0o755);
  const objPath = join(dir, "obj.o");
  writeFileSync(objPath, bpfObject(GOOD));
  chmodSync(objPath, 0o644);
  const out = execFileSync(process.execPath, [join(here, "fixtures", "load-unprivileged.js"), objPath], { encoding: "utf8" });
  assert.doesNotMatch(out, /LOADED/);
  assert.match(out, /root|CAP_BPF/);
});
