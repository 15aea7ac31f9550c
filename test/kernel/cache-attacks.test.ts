// Tier 2: the compile cache does not let another user inject code into root's programs (issue 9, item 1), and a
// damaged cache entry heals (item 2). Every attack is planted by a real second user (`nobody`, through setpriv)
// in a cache root that was world-writable; root then loads a program that counts getppid calls per pid, and
// the count must land on the real pid of the child that made them (a planted header would make the program
// record 0x4242 instead). Each test uses its own cache root, so the shared cache of other tests is not touched.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BPF } from "../../src/api/bpf.js";
import { CompileCache } from "../../src/dialect/cache.js";
import { compileDialect } from "../../src/dialect/index.js";
import { haveClang, haveGcc, syscallLoop } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { withEnv } from "../helpers/env.js";

const POISON_PID = 0x4242;
const POISON = `#define bpf_get_current_pid_tgid() (0x4242ULL << 32)`;
const haveSetpriv = spawnSync("setpriv", ["--version"]).status === 0;
const skip = process.getuid?.() !== 0 ? "needs root" : !haveClang ? "clang is needed" : !haveGcc ? "gcc is needed"
  : !haveSetpriv ? "setpriv (util-linux) is needed to act as a second user" : !fs.existsSync("/sys/kernel/btf/vmlinux") ? "kernel has no BTF" : false;

// Removed at the end, not per test: a test's roots stay valid for anything a process remembers about them.
const cleanup: string[] = [];
after(() => {
  for (const p of cleanup) fs.rmSync(p, { recursive: true, force: true });
});

let salt = 0;
/** A program that counts getppid calls per tgid (fresh text per call: a compile-cache miss in any cache). */
function program(): string {
  return `BPF_HASH(calls, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  calls.increment(pid);
  return 0;
}
// ${process.pid}-${salt++}
`;
}

/** Runs a shell script as `nobody`; fails the test if it fails. */
function asNobody(script: string): void {
  const r = spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "sh", "-ec", script], { encoding: "utf8" });
  assert.equal(r.status, 0, `as nobody: ${script}\n${r.stderr}`);
}

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(dir);
  return dir;
}

/** A cache root as someone would create it for everybody: /tmp/..., mode 0777. */
function worldWritableRoot(): string {
  const root = tempDir("tsbcc-attack-");
  fs.chmodSync(root, 0o777);
  return root;
}

/** A directory owned by nobody, outside the cache (where an attacker keeps planted files). */
function nobodyDir(): string {
  const dir = tempDir("tsbcc-evil-");
  fs.chownSync(dir, 65534, 65534);
  fs.chmodSync(dir, 0o755);
  return dir;
}

interface Outcome {
  /** getppid calls the map counted for the child's real pid. */
  counted: number;
  /** Whether the planted pid appears in the map. */
  poisoned: boolean;
  /** tsbcc's cache warnings during the load. */
  warnings: string[];
}

/** Loads `text` with the cache at `root` (as BPF.load finds it: TSBCC_CACHE_DIR) and lets a child make 100 getppid calls. */
async function loadAndCount(root: string, text: string, extraEnv: Record<string, string> = {}): Promise<Outcome> {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    if (w.name === "TsbccCacheWarning") warnings.push(w.message);
  };
  process.on("warning", onWarning);
  try {
    return await withEnv({ TSBCC_CACHE_DIR: root, ...extraEnv }, async () => {
      const b = await BPF.load({ text });
      try {
        const child = pausedChild(syscallLoop("getppid"), ["100"]);
        assert.equal(await child.go(), 0);
        const calls = b.table("calls");
        const counted = Number(calls.get(child.pid) ?? 0);
        const poisoned = calls.get(POISON_PID) !== undefined;
        await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
        return { counted, poisoned, warnings: [...warnings] };
      } finally {
        b.close();
      }
    });
  } finally {
    process.off("warning", onWarning);
  }
}

function assertNotPoisoned(o: Outcome, what: RegExp): void {
  assert.equal(o.poisoned, false, "the planted definition reached root's program");
  assert.equal(o.counted, 100, "root's program counted the child's 100 calls under its real pid");
  assert.ok(o.warnings.some((w) => what.test(w)), `a warning matching ${what}; got:\n${o.warnings.join("\n")}`);
}

/** What a first compile as root puts in `root` (the module dir id and its map); then that is removed again. */
async function learnLayout(root: string): Promise<{ moduleId: string; moduleMap: string }> {
  // As BPF.load compiles (cache root from the environment), so the module dir id is the one the load uses.
  await withEnv({ TSBCC_CACHE_DIR: root }, () => compileDialect({ text: program() }));
  const moduleId = fs.readdirSync(join(root, "modules"))[0]!;
  const moduleMap = fs.readFileSync(join(root, "modules", moduleId, "module.modulemap"), "utf8");
  // The kernel types entry stays (root's own files): the attack is on what clang is pointed at next.
  for (const name of fs.readdirSync(root)) if (name !== "kernel") fs.rmSync(join(root, name), { recursive: true, force: true });
  return { moduleId, moduleMap };
}

/** A module map that adds a header of the attacker's to the kernel-types module. */
function poisonedMap(realMap: string, evilHeader: string): string {
  return realMap.replace("  export *", `  header "${evilHeader}"\n  export *`);
}

// Each attack runs twice: planted into a root that is still 0777 when root first uses it (tightened then), and
// into one an earlier tsbcc already tightened without looking inside (only the per-use checks stand).
for (const tightenedEarlier of [false, true]) {
  const variant = tightenedEarlier ? " (root tightened earlier)" : "";
  const tighten = (root: string): void => {
    if (tightenedEarlier) fs.chmodSync(root, 0o700);
  };

  test(`a header planted under libbpf-include/bpf/ is not used${variant}`, { skip }, async () => {
    const root = worldWritableRoot();
    asNobody(`mkdir -p ${root}/libbpf-include/bpf && cp /usr/include/bpf/*.h ${root}/libbpf-include/bpf/ && ` +
      `echo '${POISON}' >> ${root}/libbpf-include/bpf/bpf_helpers.h`);
    tighten(root);
    const o = await loadAndCount(root, program());
    assertNotPoisoned(o, /libbpf-include.*(owned by uid 65534|not a symbolic link)/);
    assert.ok(fs.lstatSync(join(root, "libbpf-include", "bpf")).isSymbolicLink(), "replaced by tsbcc's own link");
  });

  test(`a planted modules symlink is not followed${variant}`, { skip }, async () => {
    const root = worldWritableRoot();
    const { moduleId, moduleMap } = await learnLayout(root);
    fs.chmodSync(root, 0o777);
    const evil = nobodyDir();
    asNobody(`mkdir ${evil}/${moduleId} && echo '${POISON}' > ${evil}/evil.h && ` +
      `printf '%s' '${poisonedMap(moduleMap, `${evil}/evil.h`)}' > ${evil}/${moduleId}/module.modulemap && ln -s ${evil} ${root}/modules`);
    tighten(root);
    const o = await loadAndCount(root, program());
    assertNotPoisoned(o, /modules (owned by uid 65534|is a symbolic link)/);
    assert.ok(fs.lstatSync(join(root, "modules")).isDirectory(), "modules is tsbcc's own directory again");
  });

  test(`a planted module.modulemap is not used${variant}`, { skip }, async () => {
    const root = worldWritableRoot();
    const { moduleId, moduleMap } = await learnLayout(root);
    fs.chmodSync(root, 0o777);
    const dir = `${root}/modules/${moduleId}`;
    asNobody(`mkdir -p ${dir} && chmod 777 ${root}/modules ${dir} && echo '${POISON}' > ${dir}/evil.h && ` +
      `printf '%s' '${poisonedMap(moduleMap, `${dir}/evil.h`)}' > ${dir}/module.modulemap`);
    tighten(root);
    const o = await loadAndCount(root, program());
    assertNotPoisoned(o, /modules.*(owned by uid 65534|writable by others)/);
    const map = fs.readFileSync(join(dir, "module.modulemap"), "utf8");
    assert.ok(!map.includes("evil.h"), map);
  });

  test(`a cache entry symlinked to a root-owned object outside the cache is not loaded${variant}`, { skip }, async () => {
    const text = program();
    // Root's own object for this program's key, elsewhere, recording a fixed pid: what a link could point at.
    const elsewhere = tempDir("tsbcc-elsewhere-");
    const real = await compileDialect({ text, cacheDir: elsewhere });
    const key = fs.readdirSync(join(elsewhere, "dialect"))[0]!.replace(/\.bin$/, "");
    const bad = await compileDialect({ text: text.replace("bpf_get_current_pid_tgid()", "(0x4242ULL << 32)"), cacheDir: elsewhere, noCache: true });
    new CompileCache(elsewhere).put(key, bad.object, { metadata: real.metadata, rewritten: real.rewritten, warnings: [] });
    const target = join(elsewhere, "dialect", `${key}.bin`);
    assert.equal(fs.statSync(target).uid, 0);
    // root's own entry directory, left world-writable like the root (say, after a `chmod -R 777`).
    const root = worldWritableRoot();
    fs.mkdirSync(join(root, "dialect"));
    fs.chmodSync(join(root, "dialect"), 0o777);
    asNobody(`ln -s ${target} ${root}/dialect/${key}.bin`);
    tighten(root);
    if (tightenedEarlier) fs.chmodSync(join(root, "dialect"), 0o700);
    const o = await loadAndCount(root, text);
    assertNotPoisoned(o, /dialect.*(owned by uid 65534|is a symbolic link|writable by others)/);
    assert.ok(!fs.lstatSync(join(root, "dialect", `${key}.bin`)).isSymbolicLink());
  });
}

test("a fallback temp dir pre-created by another user does not stop the load, and is not used", { skip }, async () => {
  const tmp = tempDir("tsbcc-tmpdir-");
  fs.chmodSync(tmp, 0o1777);
  const fallback = join(tmp, `tsbcc-${process.geteuid!()}`);
  // The cache root is someone else's (unusable), and so is the per-user fallback, with a poisoned header in it.
  asNobody(`mkdir ${tmp}/cache && mkdir -m 777 ${fallback} && mkdir -p ${fallback}/libbpf-include/bpf && ` +
    `cp /usr/include/bpf/*.h ${fallback}/libbpf-include/bpf/ && echo '${POISON}' >> ${fallback}/libbpf-include/bpf/bpf_helpers.h`);
  const o = await loadAndCount(join(tmp, "cache"), program(), { TMPDIR: tmp });
  assertNotPoisoned(o, /cache directory .*cache is owned by uid 65534; bypassed/);
  assert.ok(o.warnings.some((w) => w.includes(fallback) && /owned by uid 65534/.test(w)), o.warnings.join("\n"));
});

test("work directories of a killed compile are removed by the next compile", { skip }, async () => {
  const tmp = tempDir("tsbcc-tmpdir-");
  const cache = tempDir("tsbcc-cache-");
  const here = dirname(fileURLToPath(import.meta.url));
  const dialect = join(here, "..", "..", "src", "dialect", "index.js");
  const script = `const { compileDialect } = await import(${JSON.stringify(dialect)});
    await compileDialect({ text: ${JSON.stringify(program())}, cacheDir: ${JSON.stringify(cache)} });`;
  // Killed (with its clang) while compiling: its work directory stays behind.
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, TMPDIR: tmp }, detached: true, stdio: "ignore" });
  const workDirs = (): string[] => fs.readdirSync(tmp).filter((n) => n.startsWith("tsbcc-"));
  const deadline = Date.now() + 60_000;
  while (!workDirs().some((n) => fs.existsSync(join(tmp, n, "tsbcc-tracepoints.h"))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  process.kill(-child.pid!, "SIGKILL");
  await new Promise((r) => child.on("exit", r));
  const left = workDirs();
  assert.ok(left.length > 0, "the killed compile left its work directory");
  await withEnv({ TMPDIR: tmp }, () => compileDialect({ text: program(), cacheDir: cache }));
  assert.deepEqual(workDirs().filter((n) => left.includes(n)), [], "leftovers removed");
});

for (const damage of ["truncated", "bit-flipped"] as const) {
  test(`a ${damage} cache entry is recompiled and loads, with a warning naming the file`, { skip }, async () => {
    const root = tempDir("tsbcc-heal-");
    const text = program();
    assert.equal((await loadAndCount(root, text)).counted, 100);
    const [name] = fs.readdirSync(join(root, "dialect"));
    const file = join(root, "dialect", name!);
    const bytes = fs.readFileSync(file);
    const size = bytes.length;
    if (damage === "truncated") fs.writeFileSync(file, new Uint8Array(bytes.buffer, bytes.byteOffset, size - 100));
    else {
      bytes[size - 200] ^= 0x10;
      fs.writeFileSync(file, new Uint8Array(bytes.buffer, bytes.byteOffset, size));
    }
    const o = await loadAndCount(root, text);
    assert.equal(o.counted, 100);
    assert.ok(o.warnings.some((w) => w.includes(file) && /damaged cache entry/.test(w)), o.warnings.join("\n"));
    assert.equal(fs.statSync(file).size, size, "entry written again whole");
    const again = await compileDialect({ text, cacheDir: root });
    assert.equal(again.fromCache, true, "the healed entry is served from the cache");
  });
}
