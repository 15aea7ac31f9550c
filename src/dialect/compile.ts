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
// Files: the cache root and everything clang reads from it follow src/store's rules (cache.ts, clang-env.ts);
// each cold compile works in its own `$TMPDIR/tsbcc-w<pid>-*`, and those of killed compiles are swept.
// clang crashes and failures without diagnostics are ClangError (signal + stderr), not DialectError.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve as resolvePath } from "node:path";
import { onlineCpus } from "../kernel/cpus.js";
import { makeWorkDir, removeWorkDir, sweepWorkDirs } from "../store/index.js";
import { type AstNode, normalizeLocations, parseMainFileDecls } from "./ast.js";
import { CompileCache, bytesOf, cacheKey, defaultCacheRoot, readIfExists } from "./cache.js";
import {
  ClangError, type ClangInfo, type RunResult, clangInfo, compilerCodeHash, dialectHeaderHash, libbpfIncludeDir, retargetToBpf, run,
  stripDebug, tsbccIncludeDir,
} from "./clang.js";
import { commonFlags } from "./clang-env.js";
import {
  type Diagnostic, DialectError, type RawDiagnostic, dialectMessage, identityMapper, parseClangOutput, rewriteMapper,
  toUserDiagnostics,
} from "./diagnostics.js";
import { LineIndex, SourceMap, type Segment } from "./edits.js";
import { kernelSetup, type KernelSetup } from "./kernel-adapter.js";
import {
  blankCommentsAndStrings, findTracepointUses, kernelStructHasMembers, renameUserTag, structMemberNames,
} from "./prescan.js";
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
  /** Map name -> "public" | "shared" (other programs may use it) or "extern" (use another program's table). */
  shared?: Record<string, "public" | "shared" | "extern">;
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
  if (!c) {
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

/** Milliseconds per phase of a cold compile. */
class PhaseClock {
  readonly timings: Record<string, number> = {};
  readonly start = performance.now();
  private last = this.start;

  mark(name: string): void {
    const now = performance.now();
    this.timings[name] = Math.round((now - this.last) * 10) / 10;
    this.last = now;
  }

  total(): Record<string, number> {
    this.timings.total = Math.round((performance.now() - this.start) * 10) / 10;
    return this.timings;
  }
}

interface CachedInfo {
  metadata: DialectMetadata;
  rewritten: string;
  warnings: Diagnostic[];
}

export async function compileDialect(opts: CompileOptions): Promise<CompileResult> {
  const clock = new PhaseClock();
  const fileName = opts.fileName ?? "<text>";
  const cflags = opts.cflags ?? [];
  if (cflags.some((f) => /^-DBPF_LICENSE\b/.test(f))) {
    throw new DialectError([{ file: fileName, line: 1, column: 1, severity: "error", message: "BPF_LICENSE cannot be specified through cflags", sourceLine: "" }]);
  }
  const useKernelHeaders = opts.useKernelHeaders ?? process.env.TSBCC_KERNEL_HEADERS === "1";
  const state = cacheFor(opts.cacheDir ?? defaultCacheRoot());
  const [kernel, clang] = await Promise.all([
    opts.kernelTypes ?? kernelSetup(useKernelHeaders, opts.text, state.root),
    clangInfo({ stateDir: state.root }),
  ]);
  const numCpus = opts.text.includes("bpf_num_cpus") ? onlineCpus().length : 0;
  const key = cacheKey({
    tsbcc: TSBCC_VERSION, code: compilerCodeHash(), text: opts.text, fileName, cflags, kernel: kernel.identity, useKernelHeaders,
    clang: `${clang.path}\n${clang.version}`, headers: dialectHeaderHash(), libbpf: libbpfVersion(), numCpus,
    tracepointFormats: opts.tracepointFormats ?? null, ...(opts.prelude ? { prelude: opts.prelude } : {}),
  });
  const cache = opts.noCache ? undefined : state;
  const hit = cache?.get(key);
  if (hit) {
    const info = hit.info as CachedInfo;
    return { object: hit.object, metadata: info.metadata, rewritten: info.rewritten, fromCache: true, warnings: info.warnings };
  }
  clock.mark("setup");
  sweepWorkDirs();
  const work = makeWorkDir();
  try {
    const job: ColdJob = {
      text: opts.text, fileName, cflags, kernel, clang, numCpus, work, root: state.root, tpFormats: opts.tracepointFormats, clock, prelude: opts.prelude,
    };
    const result = await compileCold(job);
    if (cache) cache.put(key, result.object, { metadata: result.metadata, rewritten: result.rewritten, warnings: result.warnings } satisfies CachedInfo);
    clock.mark("store");
    return { ...result, fromCache: false, timings: clock.total() };
  } finally {
    removeWorkDir(work);
  }
}

/** Everything a cold compile needs. */
interface ColdJob {
  text: string;
  fileName: string;
  cflags: string[];
  kernel: KernelSetup;
  clang: ClangInfo;
  numCpus: number;
  /** Private work directory of this compile. */
  work: string;
  /** Private cache root (module cache, libbpf link). */
  root: string;
  tpFormats: Record<string, string> | undefined;
  /** Generated C ahead of the user's text (CompileOptions.prelude). */
  prelude: string | undefined;
  clock: PhaseClock;
}

/**
 * The user's text as clang sees it (bytes: clang reports byte offsets, so one JS char per byte), its
 * comment/string-blanked twin, and diagnostics at byte offsets.
 */
class UserSource {
  bytes: string;
  blanked: string;
  readonly lines: LineIndex;

  constructor(readonly text: string, readonly fileName: string) {
    this.bytes = Buffer.from(text, "utf8").toString("latin1");
    this.blanked = blankCommentsAndStrings(this.bytes);
    this.lines = new LineIndex(this.bytes);
  }

  diag(offset: number, severity: "error" | "warning", message: string): Diagnostic {
    const p = this.lines.position(offset);
    return { file: this.fileName, line: p.line, column: p.col, severity, message, sourceLine: latin1ToUtf8(this.lines.lineText(p.line)) };
  }

  /**
   * Blanks the `{...}` body of the struct whose tag is at (line, column) so the kernel's definition is used;
   * false when there is none, or when the user's struct has members the kernel's lacks: then it is the user's
   * own struct that shares a kernel name, and it is renamed instead.
   */
  blankStructBody(name: string, line: number, column: number): boolean {
    const span = structBodySpan(this.blanked, this.lines.offsetOf(line, column));
    if (!span) return false;
    if (!kernelStructHasMembers(name, structMemberNames(this.blanked.slice(span.begin + 1, span.end - 1)))) {
      this.bytes = renameUserTag(this.bytes, this.blanked, name);
      this.blanked = blankCommentsAndStrings(this.bytes);
      return false;
    }
    this.bytes = this.bytes.slice(0, span.begin) + this.bytes.slice(span.begin, span.end).replace(/[^\n]/g, " ") + this.bytes.slice(span.end);
    this.blanked = blankCommentsAndStrings(this.bytes);
    return true;
  }
}

async function compileCold(job: ColdJob): Promise<Omit<CompileResult, "fromCache">> {
  const src = new UserSource(job.text, job.fileName);
  const structs = tracepointStructs(src, job.tpFormats);
  if (job.prelude) structs.push(job.prelude.endsWith("\n") ? job.prelude : `${job.prelude}\n`);
  job.clock.mark("tracepoints");
  const common = commonFlags(job.kernel, job.clang, job.root);
  // `#include "x.h"` next to the user's file still works although clang compiles a copy elsewhere.
  const userDir = job.fileName !== "<text>" && existsSync(job.fileName) ? ["-iquote", dirname(resolvePath(job.fileName))] : [];
  const analysis = await analyze(job, src, structs, [...common, ...userDir]);
  job.clock.mark("analyze");
  const ast = parseAst(job, analysis);
  job.clock.mark("parse-ast");
  const rw = rewriteProgram({ ast, text: src.bytes, mainFile: analysis.mainFile, numCpus: job.numCpus, blanked: src.blanked });
  const rwDiags = rw.diagnostics.map((d) => src.diag(d.offset, d.severity, d.message));
  const carried = analysis.diagnostics.filter((d) => d.severity !== "error");
  if (rwDiags.some((d) => d.severity === "error")) throw new DialectError([...rwDiags, ...carried]);
  job.clock.mark("rewrite");
  const out = await codegen(job, src, structs, rw, [...common, ...userDir]);
  await stripDebug(job.clang, out.objFile);
  job.clock.mark("strip");
  const object = bytesOf(readFileSync(out.objFile));
  job.clock.mark("read-object");
  return {
    object,
    metadata: { functions: rw.functions, events: rw.events, sourceFile: job.fileName, pinned: rw.pinned, shared: rw.shared },
    rewritten: out.rewritten,
    warnings: [...analysis.diagnostics.filter((d) => d.severity === "warning"), ...rwDiags],
  };
}

/** The struct of every tracepoint the program uses (TRACEPOINT_PROBE, args->...); errors at the use. */
function tracepointStructs(src: UserSource, tpFormats: Record<string, string> | undefined): string[] {
  const structs: string[] = [];
  const errors: Diagnostic[] = [];
  for (const use of findTracepointUses(src.blanked)) {
    try {
      const formatText = tpFormats?.[`${use.category}:${use.event}`];
      if (tpFormats && formatText === undefined) throw new Error(`no format given for ${use.category}:${use.event}`);
      structs.push(tracepointStruct(use.category, use.event, formatText === undefined ? {} : { formatText }));
    } catch (err) {
      errors.push(src.diag(use.offset, "error", `tracepoint ${use.category}:${use.event} not found: ${(err as Error).message}`));
    }
  }
  if (errors.length) throw new DialectError(errors);
  return structs;
}

interface Analysis {
  mainFile: string;
  run: RunResult;
  /** Kernel-struct notes and clang's diagnostics, in terms of the user's file (no errors). */
  diagnostics: Diagnostic[];
}

/**
 * The analyze run: clang -fsyntax-only -ast-dump=json on the user's text verbatim. BCC programs define private
 * kernel structs (struct nameidata, struct mnt_namespace) that kernel BTF already has, complete and right for
 * this kernel: such a body is blanked (the kernel's definition is used) and the run repeated.
 */
async function analyze(job: ColdJob, src: UserSource, structs: string[], flags: string[]): Promise<Analysis> {
  const tpHeader = join(job.work, "tsbcc-tracepoints.h");
  writeFileSync(tpHeader, structs.join("\n"));
  const mainFile = join(job.work, safeName(job.fileName));
  const args = [
    ...flags, "-D__TSBCC_ANALYZE__", "-include", "tsbcc/dialect.h", "-include", tpHeader,
    // An undeclared function would only fail at load time ("calls into section ''"); say so now.
    "-Werror=implicit-function-declaration", ...job.cflags,
    // -O2 as in codegen (it only defines __OPTIMIZE__ here) so that both runs share the clang module build.
    "-O2", "-g", "-fsyntax-only", "-Xclang", "-ast-dump=json", mainFile,
  ];
  const once = (): Promise<RunResult> => {
    writeFileSync(mainFile, src.bytes, "latin1");
    return run(job.clang.path, args, job.kernel.realHeaders ? { stdoutFile: join(job.work, "ast.json") } : {});
  };
  let r = await once();
  const notes: Diagnostic[] = [];
  const dups = r.code === 0 ? [] : kernelRedefinitions(parseClangOutput(r.stderr), mainFile);
  for (const d of dups) {
    if (src.blankStructBody(d.name, d.line, d.column)) {
      notes.push(src.diag(src.lines.offsetOf(d.line, d.column), "warning", `${d.name} is also defined by the kernel's BTF; the kernel's definition is used`));
    }
  }
  if (dups.length) r = await once();
  if (r.signal) throw ClangError.fromRun(job.clang.path, "analyze", r);
  const diagnostics = [...notes, ...toUserDiagnostics(parseClangOutput(r.stderr), identityMapper(mainFile), job.fileName, job.text)
    .map((d) => ({ ...d, message: dialectMessage(d.message) }))];
  if (diagnostics.some((d) => d.severity === "error")) throw new DialectError(diagnostics);
  if (r.code !== 0) throw ClangError.fromRun(job.clang.path, "analyze", r);
  return { mainFile, run: r, diagnostics };
}

function parseAst(job: ColdJob, analysis: Analysis): AstNode {
  // With real kernel headers the dump is ~240 MB: parse only the user's part.
  if (job.kernel.realHeaders) return parseMainFileDecls(analysis.run.stdout, analysis.mainFile);
  const ast = JSON.parse(analysis.run.stdout.toString("utf8")) as AstNode;
  normalizeLocations(ast);
  return ast;
}

/**
 * The codegen run on  <tracepoint structs> #line 1 "<file>" <rewritten text> <epilogue>; its diagnostics are
 * mapped back through the rewrite segments. With real kernel headers the host-target IR is retargeted to BPF.
 */
async function codegen(
  job: ColdJob, src: UserSource, structs: string[], rw: ReturnType<typeof rewriteProgram>, flags: string[],
): Promise<{ objFile: string; rewritten: string }> {
  const prologue = `${structs.join("")}#line 1 "${cString(job.fileName)}"\n`;
  const rewrittenBytes = prologue + rw.text + buildEpilogue(rw.events);
  const codegenFile = join(job.work, `${safeName(job.fileName)}.tsbcc.c`);
  writeFileSync(codegenFile, rewrittenBytes, "latin1");
  const objFile = join(job.work, "out.o");
  const bcFile = join(job.work, "out.bc");
  const args = [
    ...flags, "-D__TSBCC_CODEGEN__", "-include", "tsbcc/dialect.h", ...job.cflags,
    "-O2", "-g", "-w", "-Xclang", "-fno-diagnostics-use-presumed-location",
    // Debug info (hence BTF line info) names the #line file as the user gave it, not joined to a directory.
    `-fdebug-prefix-map=${job.work}=`, codegenFile,
    ...(job.kernel.realHeaders ? ["-emit-llvm", "-Xclang", "-disable-llvm-passes", "-c", "-o", bcFile] : ["-c", "-o", objFile]),
  ];
  const r = await run(job.clang.path, args, { cwd: job.work });
  if (r.code !== 0) {
    const map = new SourceMap(rw.segments).shifted(prologue.length);
    const diags = toUserDiagnostics(parseClangOutput(r.stderr), rewriteMapper(codegenFile, rewrittenBytes, src.bytes, map), job.fileName, job.text)
      .map((d) => (d.file === codegenFile ? { ...d, file: `${job.fileName} (rewritten)` } : d));
    if (r.signal || !diags.some((d) => d.severity === "error")) throw ClangError.fromRun(job.clang.path, "codegen", r);
    throw new DialectError(diags);
  }
  if (job.kernel.realHeaders) await retargetToBpf(job.clang, bcFile, objFile);
  job.clock.mark("codegen");
  return { objFile, rewritten: latin1ToUtf8(rewrittenBytes) };
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
