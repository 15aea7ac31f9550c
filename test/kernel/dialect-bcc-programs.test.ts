// Tier 2: the C programs of BCC's own tools (captured from Debian's bpfcc-tools by
// test/fixtures/dialect/extract-bcc-programs.py) compile with the dialect compiler against this kernel's BTF,
// and every function they define is accepted by the verifier (loaded through src/loader; functions BCC
// would load with an explicit type are tried with the usual tracing types).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compileDialect, DialectError } from "../../src/dialect/index.js";
import { kernelTypesInclude } from "../../src/dialect/kernel-types.js";
import { LoadedObject, ProgType, parseObject } from "../../src/loader/index.js";
import { haveClang, haveGcc } from "../helpers/build.js";
import { BPF, USDT } from "../../src/index.js";
import { buildProbeTarget, haveSdt } from "../helpers/usdt-targets.js";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * BCC's tool programs are not part of this repository (they are BCC's code): they are captured here, at test
 * time, from the installed bpfcc-tools by our extraction script, once per bpfcc-tools version.
 */
async function captureBccPrograms(): Promise<string | undefined> {
  let version: string;
  try {
    version = execFileSync("dpkg-query", ["-W", "-f=${Version}", "bpfcc-tools"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
  if (!version || !existsSync("/usr/sbin/execsnoop-bpfcc")) return undefined;
  // "-2": the capture format (index.json records each tool's USDT enable_probe calls since format 2).
  const dir = join(tmpdir(), `tsbcc-bcc-programs-2-${version.replace(/[^A-Za-z0-9.+-]/g, "_")}`);
  if (!existsSync(join(dir, "index.json"))) {
    const script = resolve(here, "..", "..", "..", "test", "fixtures", "dialect", "extract-bcc-programs.py");
    // The tools ask BPF.kernel_struct_has_field(): the extractor answers from our BTF-printed vmlinux.h.
    const kt = await kernelTypesInclude({ pch: false });
    const vmlinux = kt.cacheEntry ? join(kt.cacheEntry, "include", "vmlinux.h") : "";
    execFileSync("/usr/bin/python3", [script, dir], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, TSBCC_VMLINUX_H: vmlinux } });
  }
  return dir;
}

const DIR = haveClang && process.getuid?.() === 0 ? await captureBccPrograms() : undefined;
const skip = !haveClang ? "clang is needed" : process.getuid?.() !== 0 ? "needs root" : !DIR ? "bpfcc-tools is not installed (its programs are captured at test time)" : false;

/**
 * Programs that cannot compile yet, with the reason (constants or inline helpers that the kernel's BTF does not
 * carry, kernel-types shims). USDT programs compile against targets built here with the probes they enable.
 */
const KNOWN: Record<string, string> = {
  nfsslower: "struct nfs_commit_data is only in the nfs module's BTF (kernel types come from vmlinux BTF)",
};
/** Load failures that depend on kernel configuration, not on the compiler: probed from the verifier's answer. */
function configDependent(error: string): boolean {
  // bpf_override_return needs CONFIG_BPF_KPROBE_OVERRIDE and an attach to an error-injectable function (inject).
  return /bpf_override_return/.test(error);
}
const GUESSES = [ProgType.KPROBE, ProgType.TRACEPOINT, ProgType.RAW_TRACEPOINT, ProgType.PERF_EVENT, ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.XDP,
  ProgType.CGROUP_SKB, ProgType.SOCK_OPS, ProgType.SK_SKB, ProgType.SK_MSG];

function loadAll(object: Uint8Array, lines = 6): string[] {
  const obj = new LoadedObject(parseObject(object));
  const errors: string[] = [];
  try {
    for (const p of obj.spec.programs) {
      let first: Error | undefined;
      for (const type of p.kind.progType ? [undefined] : GUESSES) {
        try {
          obj.loadProgram(p.name, type);
          first = undefined;
          break;
        } catch (e) {
          first ??= e as Error;
        }
      }
      if (first) errors.push(`${p.name}: ${first.message.split("\n").slice(0, lines).join(" | ")}`);
    }
  } finally {
    obj.close();
  }
  return errors;
}

const usdtSkip = !haveGcc ? "gcc is needed to build USDT targets" : !haveSdt ? "sys/sdt.h is needed (systemtap-sdt-dev)" : false;

/**
 * A USDT tool program against a target carrying the probes the tool enabled: compiled with the USDT prelude,
 * every enabled location attached (semaphores included), every other function loaded. Returns the failure.
 */
async function loadWithUsdt(tool: string, text: string, cflags: string[], probes: [string, string][]): Promise<string | undefined> {
  const pairs = [...new Map(probes.map(([p, fn]) => [`${p}|${fn}`, [p, fn] as const])).values()];
  if (pairs.length === 0) return `${tool}: reads USDT arguments but enabled no probe`;
  let b: BPF | undefined;
  try {
    const u = new USDT({ path: buildProbeTarget(pairs.map(([p]) => p.replace(/^.*:/, ""))) });
    for (const [probe, fnName] of pairs) u.enableProbe({ probe, fnName });
    b = await BPF.load({ text, cflags, usdtContexts: [u], autoload: false });
    const bound = new Set(pairs.map(([, fn]) => fn));
    for (const fn of b.functions.filter((f) => !bound.has(f))) {
      const errors: string[] = [];
      for (const type of GUESSES) {
        try {
          b.loadFunc(fn, type);
          errors.length = 0;
          break;
        } catch (e) {
          errors.push((e as Error).message.split("\n")[0]!);
        }
      }
      if (errors.length) return `${tool}: load ${fn}: ${errors[0]}`;
    }
    return undefined;
  } catch (e) {
    return `${tool}: ${(e as Error).message.split("\n").slice(0, 4).join(" | ")}`;
  } finally {
    b?.close();
  }
}

test("every captured BCC tool program compiles and every function passes the verifier", { skip }, async (t) => {
  const index = JSON.parse(readFileSync(join(DIR!, "index.json"), "utf8")) as
    Record<string, { status: string; cflags?: string[]; usdtProbes?: [string, string][] }>;
  const files = readdirSync(DIR!).filter((f) => f.endsWith(".c")).sort();
  assert.ok(files.length >= 100, `${files.length} captured programs`);
  const failures: string[] = [];
  let compiled = 0;
  let usdt = 0;
  let functions = 0;
  for (const f of files) {
    const tool = f.slice(0, -2);
    const text = readFileSync(join(DIR!, f), "utf8");
    const probes = index[tool]?.usdtProbes ?? [];
    if (probes.length || text.includes("bpf_usdt_readarg")) {
      if (!usdtSkip) {
        const err = await loadWithUsdt(tool, text, index[tool]?.cflags ?? [], probes);
        if (err) failures.push(err);
        else usdt++;
      }
      continue;
    }
    try {
      const r = await compileDialect({ text, fileName: f, cflags: index[tool]?.cflags ?? [] });
      compiled++;
      functions += r.metadata.functions.length;
      for (const e of loadAll(r.object)) {
        if (configDependent(e)) t.diagnostic(`${tool}: not loadable on this kernel: ${e.slice(0, 160)}`);
        else failures.push(`${tool}: load: ${e}`);
      }
      if (KNOWN[tool]) t.diagnostic(`${tool} compiles now: remove it from KNOWN (${KNOWN[tool]})`);
    } catch (e) {
      if (!(e instanceof DialectError)) throw e;
      if (KNOWN[tool]) continue;
      const first = e.diagnostics.find((d) => d.severity === "error");
      failures.push(`${tool}: ${first ? `${first.file}:${first.line}: ${first.message}` : e.message}`);
    }
  }
  t.diagnostic(`${compiled} of ${files.length} programs compiled and loaded, ${usdt} USDT programs compiled, loaded and attached ` +
    `to built targets${usdtSkip ? ` (skipped: ${usdtSkip})` : ""}, ${Object.keys(KNOWN).length} known gaps; ${functions} functions loaded`);
  if (!usdtSkip) assert.ok(usdt >= 20, `${usdt} USDT tool programs`);
  assert.deepEqual(failures, []);
});

/**
 * BCC's examples and its own Python tests (test_clang.py and the rest), captured from a BCC source tree when one
 * is available (TSBCC_BCC_SOURCE, or /usr/share/bcc with examples/): every program compiles, except those BCC
 * refuses too (the tests that expect an error), USDT programs, and tracepoints this kernel does not have.
 */
const BCC_SOURCE = [process.env.TSBCC_BCC_SOURCE, "/usr/share/bcc"].find((d) => d && existsSync(join(d, "examples")));
const BCC_VERIFIER_REFUSES = /GPL-restricted|map_value_or_null/;
const BCC_REFUSES = /unknown type struct|cannot call non-static helper|expected expression|too many arguments, bcc only supports|BPF_LICENSE cannot be specified through cflags/;

test("BCC's examples and dialect tests from a BCC source tree compile and pass the verifier", {
  skip: skip || (!BCC_SOURCE ? "no BCC source tree (set TSBCC_BCC_SOURCE to a checkout of iovisor/bcc; Debian installs no examples)" : false),
}, async (t) => {
  const out = join(tmpdir(), `tsbcc-bcc-source-${process.pid}`);
  const script = resolve(here, "..", "..", "..", "test", "fixtures", "dialect", "extract-bcc-programs.py");
  execFileSync("/usr/bin/python3", [script, "--scripts", BCC_SOURCE!, out], { stdio: ["ignore", "ignore", "pipe"] });
  const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as Record<string, { cflags?: string[] }>;
  const failures: string[] = [];
  let compiled = 0;
  let refused = 0;
  for (const [name, rec] of Object.entries(index)) {
    const text = readFileSync(join(out, `${name}.c`), "utf8");
    try {
      const r = await compileDialect({ text, fileName: `${name}.c`, cflags: rec.cflags ?? [] });
      compiled++;
      for (const err of loadAll(r.object, 40)) {
        // BCC's tests that expect a verifier refusal (test_bpf_log, the proprietary-license cases), and BTF
        // programs this kernel refuses to load at all (fentry/LSM: probed in kernel-probes tests).
        if (BCC_VERIFIER_REFUSES.test(err) || /EPERM/.test(err)) t.diagnostic(`${name}: not loadable here, as expected: ${err.slice(0, 120)}`);
        else failures.push(`${name}: load: ${err}`);
      }
    } catch (e) {
      if (!(e instanceof DialectError)) throw e;
      const first = e.diagnostics.find((d) => d.severity === "error")?.message ?? e.message;
      if (text.includes("bpf_usdt_readarg") || /tracepoint \S+ not found/.test(first)) continue;
      if (BCC_REFUSES.test(first)) refused++;
      else failures.push(`${name}: ${first}`);
    }
  }
  rmSync(out, { recursive: true, force: true });
  t.diagnostic(`${compiled} of ${Object.keys(index).length} programs compiled; ${refused} refused as BCC refuses them`);
  assert.deepEqual(failures, []);
});
