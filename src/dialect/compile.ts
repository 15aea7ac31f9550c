// compileDialect: BCC C text -> BPF ELF object + metadata (docs/DIALECT.md, "Pipeline").
//
//   cache lookup (no clang at all on a hit)
//   prescan: tracepoint structs (tracepoint-struct.ts), written to a header force-included in the analyze run
//   analyze: clang -fsyntax-only -ast-dump=json, user file verbatim   -> errors mapped 1:1
//   rewrite: rewrite.ts                                                  -> rewriter errors at user offsets
//   codegen: clang -O2 -g on  <tracepoint structs> #line 1 "<file>" <rewritten text> <epilogue>
//            diagnostics mapped back through the rewrite segments; DWARF stripped (BTF kept)
//   cache store
// Kernel types: BTF mode builds kernel-types' headers + include/tsbcc/base.h into one clang module (both runs
// share it); with real kernel headers (useKernelHeaders) both runs use the host target, the AST dump is filtered
// to the user's declarations, and the IR is retargeted to BPF with opt + llc.

import {
  existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve as resolvePath } from "node:path";
import { onlineCpus } from "../kernel/cpus.js";
import { type AstNode, normalizeLocations, parseMainFileDecls } from "./ast.js";
import { CompileCache, bytesOf, cacheKey, defaultCacheRoot, ensurePrivateDir, readIfExists } from "./cache.js";
import { QUIET_WARNINGS, clangInfo, compilerCodeHash, dialectHeaderHash, libbpfIncludeDir, run, tsbccIncludeDir, type ClangInfo } from "./clang.js";
import {
  type Diagnostic, DialectError, type RawDiagnostic, dialectMessage, identityMapper, parseClangOutput, rewriteMapper,
  toUserDiagnostics,
} from "./diagnostics.js";
import { LineIndex, SourceMap, type Segment } from "./edits.js";
import { kernelSetup, type KernelSetup } from "./kernel-adapter.js";
import { blankCommentsAndStrings, findTracepointUses } from "./prescan.js";
import { rewriteProgram, type ProgramFunction } from "./rewrite.js";
import { tracepointStruct } from "./tracepoint-struct.js";

export interface CompileOptions {
  text: string;
  /** Name used in diagnostics and debug info (default "<text>"). */
  fileName?: string;
  cflags?: string[];
  /** BCC debug flags (accepted for API parity; the caller prints `rewritten` for DEBUG_PREPROCESSOR). */
  debug?: number;
  /** Compile against /lib/modules/$(uname -r)/build instead of BTF-generated types (or TSBCC_KERNEL_HEADERS=1). */
  useKernelHeaders?: boolean;
  cacheDir?: string;
  noCache?: boolean;
  /** Testing: kernel include setup to use instead of kernel-types.ts (unit tests use a tiny vmlinux.h). */
  kernelTypes?: KernelSetup;
  /** Testing: tracepoint format file texts by "category:event", instead of tracefs. */
  tracepointFormats?: Record<string, string>;
  /** Generated C placed ahead of the user's text in both clang runs, never rewritten (USDT argument readers). */
  prelude?: string;
}

export interface DialectMetadata {
  /** Every program function, in source order. */
  functions: ProgramFunction[];
  /** Output map name -> C type name of what perf_submit/ringbuf_* submit, e.g. "struct data_t". */
  events: Record<string, string>;
  /** The user's file name (or "<text>"). */
  sourceFile: string;
  /** Map name -> pin path, for BPF_TABLE_PINNED maps (the object marks them LIBBPF_PIN_BY_NAME). */
  pinned: Record<string, string>;
}

export interface CompileResult {
  object: Uint8Array;
  metadata: DialectMetadata;
  /** The text given to the codegen run (tracepoint structs, #line, rewritten user text, epilogue). */
  rewritten: string;
  fromCache: boolean;
  /** Warnings of the analyze run and of the rewriter, in terms of the user's file. */
  warnings: Diagnostic[];
  /** Milliseconds spent per phase (cold compiles only). */
  timings?: Record<string, number>;
}

const TSBCC_VERSION = readPackageVersion();
function readPackageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(tsbccIncludeDir(), "..", "package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "0";
  } catch {
    return "0";
  }
}

const caches = new Map<string, CompileCache>();
function cacheFor(root: string): CompileCache {
  let c = caches.get(root);
  if (!c || !c.usable) {
    c = new CompileCache(root);
    caches.set(root, c);
  }
  return c;
}

let libbpfVersionMemo: string | undefined;
function libbpfVersion(): string {
  libbpfVersionMemo ??= readIfExists(join(libbpfIncludeDir(), "bpf", "libbpf_version.h")) ?? "";
  return libbpfVersionMemo;
}

export async function compileDialect(opts: CompileOptions): Promise<CompileResult> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (name: string, since: number): number => {
    const now = performance.now();
    timings[name] = Math.round((now - since) * 10) / 10;
    return now;
  };
  const fileName = opts.fileName ?? "<text>";
  const cflags = opts.cflags ?? [];
  if (cflags.some((f) => /^-DBPF_LICENSE\b/.test(f))) {
    throw new DialectError([{ file: fileName, line: 1, column: 1, severity: "error", message: "BPF_LICENSE cannot be specified through cflags", sourceLine: "" }]);
  }
  const useKernelHeaders = opts.useKernelHeaders ?? process.env.TSBCC_KERNEL_HEADERS === "1";
  const root = opts.cacheDir ?? defaultCacheRoot();
  const state = cacheFor(root);
  const cache = opts.noCache ? undefined : state;
  const [kernel, clang] = await Promise.all([
    opts.kernelTypes ?? kernelSetup(useKernelHeaders, opts.text, opts.cacheDir),
    clangInfo(state.usable ? root : undefined, (p) => state.readState(p), (p, d) => state.writeState(p, d)),
  ]);
  const numCpus = opts.text.includes("bpf_num_cpus") ? onlineCpus().length : 0;
  const key = cacheKey({
    tsbcc: TSBCC_VERSION, code: compilerCodeHash(), text: opts.text, fileName, cflags, kernel: kernel.identity, useKernelHeaders,
    clang: `${clang.path}\n${clang.version}`, headers: dialectHeaderHash(), libbpf: libbpfVersion(), numCpus,
    tracepointFormats: opts.tracepointFormats ?? null, ...(opts.prelude ? { prelude: opts.prelude } : {}),
  });
  if (cache) {
    const hit = cache.get(key);
    if (hit) {
      const info = hit.info as { metadata: DialectMetadata; rewritten: string; warnings: Diagnostic[] };
      return { object: hit.object, metadata: info.metadata, rewritten: info.rewritten, fromCache: true, warnings: info.warnings };
    }
  }
  let t = mark("setup", t0);

  const work = mkdtempSync(join(tmpdir(), "tsbcc-"));
  try {
    const result = await compileCold(opts.text, fileName, cflags, kernel, clang, numCpus, work, root, opts.tracepointFormats,
      (n, s) => mark(n, s), t, opts.prelude);
    t = performance.now();
    if (cache) cache.put(key, result.object, { metadata: result.metadata, rewritten: result.rewritten, warnings: result.warnings });
    mark("store", t);
    timings.total = Math.round((performance.now() - t0) * 10) / 10;
    return { ...result, fromCache: false, timings };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function compileCold(
  text: string, fileName: string, cflags: string[], kernel: KernelSetup, clang: ClangInfo, numCpus: number, work: string,
  cacheRoot: string, tpFormats: Record<string, string> | undefined, mark: (name: string, since: number) => number, start: number,
  prelude?: string,
): Promise<Omit<CompileResult, "fromCache">> {
  let t = start;
  // clang reports byte offsets: work on the text as bytes (one JS char per byte).
  let bytes = Buffer.from(text, "utf8").toString("latin1");
  let blanked = blankCommentsAndStrings(bytes);
  const userLines = new LineIndex(bytes);
  const userDiag = (offset: number, severity: "error" | "warning", message: string): Diagnostic => {
    const p = userLines.position(offset);
    return { file: fileName, line: p.line, column: p.col, severity, message, sourceLine: latin1ToUtf8(userLines.lineText(p.line)) };
  };

  // Tracepoint structs.
  const structs: string[] = [];
  const tpErrors: Diagnostic[] = [];
  for (const use of findTracepointUses(blanked)) {
    try {
      const formatText = tpFormats?.[`${use.category}:${use.event}`];
      if (tpFormats && formatText === undefined) throw new Error(`no format given for ${use.category}:${use.event}`);
      structs.push(tracepointStruct(use.category, use.event, formatText === undefined ? {} : { formatText }));
    } catch (err) {
      tpErrors.push(userDiag(use.offset, "error", `tracepoint ${use.category}:${use.event} not found: ${(err as Error).message}`));
    }
  }
  if (tpErrors.length) throw new DialectError(tpErrors);
  if (prelude) structs.push(prelude.endsWith("\n") ? prelude : `${prelude}\n`);
  const tpHeader = join(work, "tsbcc-tracepoints.h");
  writeFileSync(tpHeader, structs.join("\n"));
  t = mark("tracepoints", t);

  // Analyze.
  const userName = safeName(fileName);
  const mainFile = join(work, userName);
  const common = await commonFlags(kernel, clang, cacheRoot);
  // `#include "x.h"` next to the user's file still works although clang compiles a copy elsewhere.
  const userDir = fileName !== "<text>" && existsSync(fileName) ? ["-iquote", dirname(resolvePath(fileName))] : [];
  const analyzeArgs = [
    ...common, ...userDir, "-D__TSBCC_ANALYZE__", "-include", "tsbcc/dialect.h", "-include", tpHeader,
    // An undeclared function would only fail at load time ("calls into section ''"); say so now.
    "-Werror=implicit-function-declaration", ...cflags,
    // -O2 as in codegen (it only defines __OPTIMIZE__ here) so that both runs share the clang module build.
    "-O2", "-g", "-fsyntax-only", "-Xclang", "-ast-dump=json", mainFile,
  ];
  const kernelStructNotes: Diagnostic[] = [];
  let an = await runAnalyze();
  // BCC programs define private kernel structs (struct nameidata, struct mnt_namespace) that kernel BTF
  // already has, complete and right for this kernel: drop the program's body and use the kernel's.
  const dups = an.code === 0 ? [] : kernelRedefinitions(parseClangOutput(an.stderr), mainFile);
  if (dups.length) {
    for (const d of dups) {
      const span = structBodySpan(blanked, userLines.offsetOf(d.line, d.column));
      if (!span) continue;
      bytes = bytes.slice(0, span.begin) + bytes.slice(span.begin, span.end).replace(/[^\n]/g, " ") + bytes.slice(span.end);
      kernelStructNotes.push(userDiag(userLines.offsetOf(d.line, d.column), "warning",
        `${d.name} is also defined by the kernel's BTF; the kernel's definition is used`));
    }
    blanked = blankCommentsAndStrings(bytes);
    an = await runAnalyze();
  }
  t = mark("analyze", t);
  const analyzeDiags = [...kernelStructNotes, ...toUserDiagnostics(parseClangOutput(an.stderr), identityMapper(mainFile), fileName, text)
    .map((d) => ({ ...d, message: dialectMessage(d.message) }))];
  if (an.code !== 0 || analyzeDiags.some((d) => d.severity === "error")) {
    throw new DialectError(analyzeDiags.length ? analyzeDiags : [userDiag(0, "error", `clang failed: ${an.stderr.trim()}`)]);
  }
  async function runAnalyze(): Promise<Awaited<ReturnType<typeof run>>> {
    writeFileSync(mainFile, bytes, "latin1");
    return run(clang.path, analyzeArgs, undefined, kernel.realHeaders ? join(work, "ast.json") : undefined);
  }
  let ast: AstNode;
  if (kernel.realHeaders) ast = parseMainFileDecls(an.stdout, mainFile); // ~240 MB: parse only the user's part
  else {
    ast = JSON.parse(an.stdout.toString("utf8")) as AstNode;
    normalizeLocations(ast);
  }
  t = mark("parse-ast", t);

  // Rewrite.
  const rw = rewriteProgram({ ast, text: bytes, mainFile, numCpus, blanked });
  const rwDiags = rw.diagnostics.map((d) => userDiag(d.offset, d.severity, d.message));
  if (rwDiags.some((d) => d.severity === "error")) throw new DialectError([...rwDiags, ...analyzeDiags.filter((d) => d.severity !== "error")]);
  const warnings = [...analyzeDiags.filter((d) => d.severity === "warning"), ...rwDiags];
  t = mark("rewrite", t);

  // Codegen text: tracepoint structs, then the user's text at its own line numbers, then the epilogue.
  const prologue = `${structs.join("")}#line 1 "${cString(fileName)}"\n`;
  const epilogue = buildEpilogue(rw.events);
  const rewrittenBytes = prologue + rw.text + epilogue;
  const codegenFile = join(work, `${userName}.tsbcc.c`);
  writeFileSync(codegenFile, rewrittenBytes, "latin1");
  const objFile = join(work, "out.o");
  const codegenArgs = [
    ...common, ...userDir, "-D__TSBCC_CODEGEN__", "-include", "tsbcc/dialect.h", ...cflags,
    "-O2", "-g", "-w", "-Xclang", "-fno-diagnostics-use-presumed-location", 
    // Debug info (hence BTF line info) names the #line file as the user gave it, not joined to a directory.
    `-fdebug-prefix-map=${work}=`, codegenFile,
    ...(kernel.realHeaders ? ["-emit-llvm", "-Xclang", "-disable-llvm-passes", "-c", "-o", join(work, "out.bc")] : ["-c", "-o", objFile]),
  ];
  let cg = await run(clang.path, codegenArgs, work);
  if (cg.code === 0 && kernel.realHeaders) cg = await retargetToBpf(clang, join(work, "out.bc"), objFile);
  t = mark("codegen", t);
  const rewritten = latin1ToUtf8(rewrittenBytes);
  if (cg.code !== 0) {
    const map = new SourceMap(rw.segments).shifted(prologue.length);
    const diags = toUserDiagnostics(parseClangOutput(cg.stderr), rewriteMapper(codegenFile, rewrittenBytes, bytes, map), fileName, text)
      .map((d) => (d.file === codegenFile ? { ...d, file: `${fileName} (rewritten)` } : d));
    throw new DialectError(diags.length ? diags : [userDiag(0, "error", `clang codegen failed: ${cg.stderr.trim()}`)]);
  }
  // DWARF is only the vehicle for BTF here and is 95% of the object (~600 KB for a program that touches
  // task_struct): drop it, keeping .BTF/.BTF.ext. Skipped when llvm-strip is not installed.
  const strip = llvmStrip(clang);
  if (strip) {
    const st = await run(strip, ["--strip-debug", objFile]);
    if (st.code !== 0) throw new Error(`tsbcc: ${strip} --strip-debug failed: ${st.stderr.trim()}`);
  }
  t = mark("strip", t);
  const object = bytesOf(readFileSync(objFile));
  mark("read-object", t);
  return {
    object,
    metadata: { functions: rw.functions, events: rw.events, sourceFile: fileName, pinned: rw.pinned },
    rewritten,
    warnings,
  };
}

/** `redefinition of 'X'` errors in the user's file whose previous definition is in a header (kernel types). */
function kernelRedefinitions(raw: RawDiagnostic[], mainFile: string): { name: string; line: number; column: number }[] {
  const out: { name: string; line: number; column: number }[] = [];
  for (const d of raw) {
    const m = /^redefinition of '(\w+)'$/.exec(d.message);
    if (!m || d.severity !== "error" || d.file !== mainFile) continue;
    const prev = d.notes.find((n) => n.message === "previous definition is here");
    if (prev && prev.file !== mainFile) out.push({ name: m[1]!, line: d.line, column: d.column });
  }
  return out;
}

/** The `{...}` body of the struct/union whose tag name is at `at` (blanked text), or undefined. */
function structBodySpan(blanked: string, at: number): { begin: number; end: number } | undefined {
  const open = blanked.indexOf("{", at);
  if (open < 0 || /[;}]/.test(blanked.slice(at, open))) return undefined;
  let depth = 0;
  for (let i = open; i < blanked.length; i++) {
    if (blanked[i] === "{") depth++;
    else if (blanked[i] === "}" && --depth === 0) return { begin: open, end: i + 1 };
  }
  return undefined;
}

/** clang's target triple for this machine (the frontend target with real kernel headers). */
function hostTriple(): string {
  const arch: Record<string, string> = { x64: "x86_64", arm64: "aarch64", s390x: "s390x", ppc64: "powerpc64le", riscv64: "riscv64" };
  return `${arch[process.arch] ?? process.arch}-unknown-linux-gnu`;
}

/** Host-target IR -> BPF object: opt -O2 for the BPF triple, then llc (tools of clang's own LLVM). */
async function retargetToBpf(clang: ClangInfo, bc: string, obj: string): Promise<Awaited<ReturnType<typeof run>>> {
  const bin = dirname(realpathSync(clang.path));
  const tool = (name: string): string => (existsSync(join(bin, name)) ? join(bin, name) : name);
  const opted = `${bc}.opt.bc`;
  const o = await run(tool("opt"), ["-O2", "-mtriple=bpf-pc-linux", bc, "-o", opted]);
  if (o.code !== 0) return o;
  return run(tool("llc"), ["-march=bpf", "-filetype=obj", opted, "-o", obj]);
}

let stripMemo: { clang: string; strip: string | undefined } | undefined;
/** llvm-strip of clang's own LLVM (same bin directory), else one on PATH; undefined if none. */
function llvmStrip(clang: ClangInfo): string | undefined {
  if (stripMemo?.clang === clang.path) return stripMemo.strip;
  const candidates = [process.env.TSBCC_LLVM_STRIP, join(dirname(realpathSync(clang.path)), "llvm-strip"),
    ...(process.env.PATH ?? "/usr/bin").split(":").map((d) => join(d || ".", "llvm-strip"))];
  const strip = candidates.find((c): c is string => !!c && existsSync(c));
  stripMemo = { clang: clang.path, strip };
  return strip;
}

/** Flags shared by both runs: target, include paths, the kernel types module, quiet warnings. */
async function commonFlags(kernel: KernelSetup, clang: ClangInfo, cacheRoot: string): Promise<string[]> {
  const inc = tsbccIncludeDir();
  const flags = [
    "-target", "bpf", "-nostdinc", "-isystem", join(clang.resourceDir, "include"),
    "-D__TARGET_ARCH_x86", "-D__BPF_TRACING__", "-fno-stack-protector", "-fno-color-diagnostics",
    "-fno-caret-diagnostics", "-fms-extensions", ...QUIET_WARNINGS,
  ];
  for (const d of kernel.includeDirs) flags.push("-I", d);
  flags.push("-I", inc, "-isystem", libbpfOnlyDir(cacheRoot));
  if (kernel.realHeaders) {
    // Kernel headers hold x86 inline asm that only the host target parses: both runs use the host target and
    // the IR is retargeted to BPF afterwards (the classic clang -emit-llvm | opt | llc pipeline, as BCC does).
    const cf = [...kernel.cflags];
    for (let i = cf.indexOf("-target"); i >= 0; i = cf.indexOf("-target")) cf.splice(i, 2);
    flags.splice(flags.indexOf("-target"), 2, "-target", hostTriple());
    flags.push(...cf);
  } else flags.push(...kernel.cflags);
  if (!kernel.realHeaders) {
    const modDir = moduleDir(cacheRoot, kernel, clang);
    flags.push("-fmodules", `-fmodules-cache-path=${join(modDir, "cache")}`, `-fmodule-map-file=${join(modDir, "module.modulemap")}`,
      "-fno-implicit-module-maps", "-D__TSBCC_MODULES__",
      // The module (kernel types, libbpf, base.h) does not depend on the mode: one build serves both runs.
      "-fmodules-ignore-macro=__TSBCC_ANALYZE__", "-fmodules-ignore-macro=__TSBCC_CODEGEN__");
  } else {
    for (const h of kernel.typeHeaders) flags.push("-include", h);
  }
  return flags;
}

/** A directory holding only a `bpf` link to libbpf's headers, so -nostdinc builds see <bpf/...> and nothing else. */
function libbpfOnlyDir(cacheRoot: string): string {
  const dir = join(privateDir(cacheRoot), "libbpf-include");
  const link = join(dir, "bpf");
  const target = join(libbpfIncludeDir(), "bpf");
  ensureSymlink(dir, link, target);
  return dir;
}

/** The clang module map for this kernel's vmlinux.h and these headers, and its module cache. */
function moduleDir(cacheRoot: string, kernel: KernelSetup, clang: ClangInfo): string {
  const id = cacheKey({ k: kernel.identity, v: kernel.typeHeaders, i: kernel.includeDirs, h: dialectHeaderHash(), c: clang.version, p: clang.path }).slice(0, 24);
  const dir = join(privateDir(cacheRoot), "modules", id);
  const map = join(dir, "module.modulemap");
  if (readIfExists(map) === undefined) {
    pruneModuleDirs(join(privateDir(cacheRoot), "modules"));
    ensurePrivateDir(dir);
    const base = join(tsbccIncludeDir(), "tsbcc", "base.h");
    const headers = [...kernel.typeHeaders, base].map((h) => `  header "${h}"\n`).join("");
    const text = `module tsbcc_base {\n${headers}  export *\n}\n`;
    const tmp = `${map}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameQuiet(tmp, map);
  }
  return dir;
}

/** Keeps the few most recently created module caches (each holds a ~30 MB build of vmlinux.h). */
function pruneModuleDirs(parent: string, keep = 3): void {
  let dirs: { path: string; mtime: number }[];
  try {
    dirs = readdirSync(parent).map((n) => join(parent, n)).map((path) => ({ path, mtime: statSync(path).mtimeMs }));
  } catch {
    return;
  }
  dirs.sort((a, b) => b.mtime - a.mtime);
  for (const d of dirs.slice(keep)) rmSync(d.path, { recursive: true, force: true });
}

let privateRootMemo: { root: string; dir: string } | undefined;
/** A private directory for module caches and links: the cache root when usable, else a per-user temp dir. */
function privateDir(cacheRoot: string): string {
  if (privateRootMemo?.root === cacheRoot) return privateRootMemo.dir;
  let dir = cacheRoot;
  if (!ensurePrivateDir(dir)) {
    dir = join(tmpdir(), `tsbcc-${process.geteuid?.() ?? 0}`);
    if (!ensurePrivateDir(dir)) throw new Error(`tsbcc: no private directory for clang modules (${cacheRoot}, ${dir})`);
  }
  privateRootMemo = { root: cacheRoot, dir };
  return dir;
}

function ensureSymlink(dir: string, link: string, target: string): void {
  ensurePrivateDir(dir);
  try {
    if (readlinkSync(link) === target) return;
    unlinkSync(link);
  } catch {
    // missing: create below
  }
  try {
    symlinkSync(target, link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}
function renameQuiet(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch {
    try {
      unlinkSync(from);
    } catch {
      // ignore
    }
  }
}

/** License section and BTF anchors for event types, appended after the user's text. */
function buildEpilogue(events: Record<string, string>): string {
  // The user's own `#define BPF_LICENSE X` precedes this, so the default only applies without one.
  const lines = ["", `#line 1 "<tsbcc-epilogue>"`, "#ifndef BPF_LICENSE", "#define BPF_LICENSE GPL", "#endif"];
  lines.push(`char _license[] __attribute__((section("license"), used)) = __TSBCC_STR(BPF_LICENSE);`);
  for (const [map, type] of Object.entries(events)) {
    // An unused pointer in a section the loader does not load keeps the event type in the object's BTF.
    lines.push(`__attribute__((section(".tsbcc.types"), used)) ${type} *__tsbcc_event__${map};`);
  }
  return lines.join("\n") + "\n";
}

function safeName(fileName: string): string {
  const b = basename(fileName).replace(/[^\w.+-]/g, "_");
  return b.endsWith(".c") ? b : `${b || "program"}.c`;
}

function cString(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

function latin1ToUtf8(s: string): string {
  return Buffer.from(s, "latin1").toString("utf8");
}

export type { Segment };
