// Tier 1: module symbols from real gcc/g++ binaries built at test time: the binary's own .symtab, a stripped
// copy found through a build-id debug file under a private debug root, through .gnu_debuglink (CRC-checked), and
// through MiniDebugInfo; .dynsym only; C++ demangling; build-id frames; bad files.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModuleSymbols, ModuleSymbols, Symbolizer, UNKNOWN } from "../../src/symbols/index.js";
import { openElfForSymbols } from "../../src/symbols/elf-image.js";
import { ElfError, ElfFile } from "../../src/elf/index.js";
import { TsbccError } from "../../src/errors.js";
import { haveDemangler } from "../../src/symbols/demangle.js";
import { CHAIN, buildFixtures, fixtureSkip, symbolAddress, type Fixtures } from "../helpers/symbol-fixtures.js";

const skip = fixtureSkip ? `${fixtureSkip} is not installed` : false;
let fx: Fixtures;
before(() => { if (!skip) fx = buildFixtures(); });
after(() => { if (fx) rmSync(fx.dir, { recursive: true, force: true }); });

/** Name of the function covering link-time address `addr` in `mod`, or undefined. */
function nameAt(mod: ModuleSymbols, addr: bigint): string | undefined {
  const pos = mod.find(Number(addr));
  return pos < 0 ? undefined : mod.name(pos);
}

function assertChainResolves(mod: ModuleSymbols, reference: string): void {
  for (const fn of CHAIN) {
    const at = symbolAddress(reference, fn);
    assert.equal(nameAt(mod, at), fn);
    assert.equal(nameAt(mod, at + 5n), fn);
    assert.equal(mod.start(mod.find(Number(at) + 5)), Number(at));
  }
}

test("a binary's own .symtab: every function of the chain by address, names back to addresses", { skip }, () => {
  const mod = loadModuleSymbols(fx.chain);
  assert.deepEqual(mod.sources, ["symtab"]);
  assertChainResolves(mod, fx.chain);
  assert.equal(mod.addressOf("tsbcc_level_b"), Number(symbolAddress(fx.chain, "tsbcc_level_b")));
  assert.equal(mod.addressOf("no_such_function"), undefined);
  assert.equal(nameAt(mod, 0n), undefined);
  assert.equal(mod.buildId, ElfFile.open(fx.chain).buildId());
});

test("a stripped binary symbolizes through its build-id debug file under a configurable debug root", { skip }, () => {
  assert.equal(ElfFile.open(fx.strippedByBuildId).sections.some((s) => s.name === ".symtab"), false);
  const mod = loadModuleSymbols(fx.strippedByBuildId, { debugRoot: fx.debugRoot });
  assert.match(mod.sources[0]!, /^debug file .*\.build-id\//);
  assertChainResolves(mod, fx.chain);
  // Without the debug root the same file has no names for its static functions.
  const bare = loadModuleSymbols(fx.strippedByBuildId, { debugRoot: join(fx.dir, "empty-root") });
  assert.equal(nameAt(bare, symbolAddress(fx.chain, "tsbcc_level_b")), undefined);
});

test("a debug file whose build-id does not match is ignored", { skip }, () => {
  const id = ElfFile.open(fx.chain).buildId()!;
  const root = join(fx.dir, "wrong-root");
  const dir = join(root, ".build-id", id.slice(0, 2));
  rmSync(root, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(fx.cxx, join(dir, `${id.slice(2)}.debug`)); // another program's file at this build-id's path
  const mod = loadModuleSymbols(fx.strippedByBuildId, { debugRoot: root });
  assert.equal(nameAt(mod, symbolAddress(fx.chain, "tsbcc_level_b")), undefined);
});

test("a stripped binary symbolizes through .gnu_debuglink; a debug file with the wrong CRC is refused", { skip }, () => {
  const mod = loadModuleSymbols(fx.strippedByLink, { debugRoot: join(fx.dir, "empty-root") });
  assert.match(mod.sources[0]!, /\.debug\/chain-link\.debug$/);
  assertChainResolves(mod, join(fx.dir, "chain-noid"));
  appendFileSync(join(fx.dir, ".debug", "chain-link.debug"), "corrupted");
  const refused = loadModuleSymbols(fx.strippedByLink, { debugRoot: join(fx.dir, "empty-root") });
  assert.equal(nameAt(refused, symbolAddress(join(fx.dir, "chain-noid"), "tsbcc_level_b")), undefined);
});

test("a stripped binary symbolizes through MiniDebugInfo (.gnu_debugdata, xz)", { skip }, () => {
  const mod = loadModuleSymbols(fx.strippedMini, { debugRoot: join(fx.dir, "empty-root") });
  assert.ok(mod.sources.includes("minidebuginfo"), mod.sources.join(","));
  assertChainResolves(mod, join(fx.dir, "chain-noid"));
});

test("a binary with .dynsym only: its static functions get no (false) names", { skip }, () => {
  const mod = loadModuleSymbols(fx.strippedBare, { debugRoot: join(fx.dir, "empty-root") });
  assert.deepEqual(mod.sources.filter((s) => s !== "dynsym"), []);
  assert.equal(nameAt(mod, symbolAddress(join(fx.dir, "chain-noid"), "tsbcc_level_b")), undefined);
});

test("C++ names are demangled unless asked not to", { skip }, (t) => {
  if (!haveDemangler()) return t.skip("gecko-profiler-demangle is not installed");
  const mod = loadModuleSymbols(fx.cxx);
  const at = symbolAddress(fx.cxx, "_ZN5tsbcc6Widget4spinEi");
  const pos = mod.find(Number(at));
  assert.equal(mod.name(pos), "tsbcc::Widget::spin(int)");
  assert.equal(mod.name(pos, false), "_ZN5tsbcc6Widget4spinEi");
  assert.equal(mod.addressOf("tsbcc::Widget::spin(int)"), Number(at));
});

test("build-id frames: resolved through addModule, through the debug root, unknown otherwise", { skip }, () => {
  const s = new Symbolizer({ debugRoot: fx.debugRoot });
  const elf = ElfFile.open(fx.chain);
  const id = elf.buildId()!;
  const at = symbolAddress(fx.chain, "tsbcc_level_b");
  const offset = BigInt(elf.vaddrToFileOffset(at + 4n)!);
  const bytes = Uint8Array.from(Buffer.from(id.padEnd(40, "0"), "hex"));
  // Found through <debugRoot>/.build-id without registration.
  assert.equal(s.symBuildId({ buildId: bytes, offset }, { showOffset: true }), "tsbcc_level_b+0x4");
  const fresh = new Symbolizer({ debugRoot: join(fx.dir, "empty-root") });
  assert.equal(fresh.symBuildId({ buildId: id, offset }), UNKNOWN);
  assert.equal(fresh.addModule(fx.chain), id);
  assert.equal(fresh.symBuildId({ buildId: bytes, offset }, { showModule: true }), "tsbcc_level_b [chain]");
  assert.equal(fresh.symBuildId({ buildId: id, offset: 0xfffffffn }, { showModule: true }), "[unknown] [chain]");
  assert.throws(() => fresh.addModule(join(fx.dir, "chain-noid")), (e: unknown) => e instanceof TsbccError && e.code === "BAD_ELF");
});

test("bad files: missing, not ELF, truncated", { skip }, () => {
  assert.throws(() => loadModuleSymbols(join(fx.dir, "missing")), /ENOENT/);
  const text = join(fx.dir, "text.txt");
  writeFileSync(text, "not an elf file at all");
  assert.throws(() => loadModuleSymbols(text), ElfError);
  const truncated = join(fx.dir, "truncated");
  const whole = ElfFile.open(fx.chain).bytes;
  writeFileSync(truncated, whole.subarray(0, 200));
  assert.throws(() => openElfForSymbols(truncated), ElfError);
  writeFileSync(truncated, whole.subarray(0, 10));
  assert.throws(() => openElfForSymbols(truncated), ElfError);
  const s = new Symbolizer();
  assert.throws(() => s.addModule(text), TsbccError);
});
