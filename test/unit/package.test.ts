// Tier 1: tsbcc as an npm package. `npm pack` the built tree, install the tarball into an empty project, and use
// it the way a user would: `import { BPF } from "tsbcc"` type-checks under `strict` (types from the package),
// runs, deep imports are refused (`exports`), and `npx tsbcc --help` works. Needs `npm run build` first (the
// tier runs from dist/); koffi comes from the npm cache, or the registry when the cache lacks it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "error" } });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const CONSUMER = `import { BPF, TsbccError, ErrorCode, type HashTable, type PerfEventArrayTable, type RingBufTable } from "tsbcc";

interface Event { pid: number; comm: string; ts: bigint }

export async function main(): Promise<void> {
  const b = await BPF.load({ text: "BPF_HASH(counts, u32, u64);" });
  try {
    const counts = b.table<HashTable<number, bigint>>("counts");
    counts.set(1, 2n);
    const total: bigint = [...counts.items()].reduce((a, [, v]) => a + v, 0n);
    console.log(total);
    b.table<PerfEventArrayTable>("events").openPerfBuffer<Event>((cpu, ev, size) => console.log(cpu, ev.comm, size), { decode: true });
    b.table<RingBufTable>("rb").openRingBuffer<Event, string>((ctx, ev, size) => console.log(ctx.length, ev.pid, size), { ctx: "x" });
  } catch (e) {
    if (e instanceof TsbccError && e.code === ErrorCode.NO_SUCH_TABLE) console.log("no table");
  } finally {
    b.close();
  }
}
`;

test("npm pack -> install into an empty project -> strict type-check, import, no deep imports, npx tsbcc --help", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-pack-"));
  try {
    const packed = JSON.parse(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], root)) as
      { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    for (const need of ["package.json", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli/tsbcc.mjs", "dist/src/cli/tsbcc-main.cjs", "include/tsbcc/dialect.h"]) {
      assert.ok(files.includes(need), `the tarball has ${need}`);
    }
    assert.deepEqual(files.filter((f) => /^(test|bench|examples|src)\/|^dist\/(test|bench)|\.map$|startup-bench/.test(f)), [],
      "no tests, benchmarks, sources or source maps in the tarball");

    const proj = join(dir, "consumer");
    execFileSync("mkdir", [proj]);
    writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(dir, packed[0]!.filename)], proj);

    writeFileSync(join(proj, "index.ts"), CONSUMER);
    writeFileSync(join(proj, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", noEmit: true,
        // @types/node 20's Buffer does not check against TypeScript 5.9's lib; tsbcc's own .d.ts come from a strict build.
        skipLibCheck: true, typeRoots: [join(root, "node_modules", "@types")], types: ["node"],
      },
      files: ["index.ts"],
    }));
    run(process.execPath, [tsc, "-p", "tsconfig.json"], proj);
    // A wrong type is caught: the package's types are really in use.
    writeFileSync(join(proj, "index.ts"), `import { BPF } from "tsbcc";\nexport const t: number = BPF.monotonicTime();\n`);
    const bad = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: proj, encoding: "utf8" });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /Type 'bigint' is not assignable to type 'number'/);

    const imported = run(process.execPath, ["--input-type=module", "-e",
      `const m = await import("tsbcc"); console.log(typeof m.BPF, typeof m.TsbccError, typeof m.HashTable);
       try { await import("tsbcc/dist/src/api/bpf.js"); console.log("deep"); } catch (e) { console.log(e.code); }`], proj);
    assert.equal(imported.trim(), "function function function\nERR_PACKAGE_PATH_NOT_EXPORTED");

    const help = run("npx", ["--no-install", "tsbcc", "--help"], proj);
    assert.match(help, /usage: tsbcc <tool>/);
    const version = JSON.parse(readFileSync(join(proj, "node_modules", "tsbcc", "package.json"), "utf8")).version;
    assert.equal(version, JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
