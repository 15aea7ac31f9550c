// The BCC dialect compiler (docs/DIALECT.md): BCC C text -> standard BPF ELF object + metadata.
export { compileDialect, type CompileOptions, type CompileResult, type DialectMetadata } from "./compile.js";
export { ClangError } from "./clang.js";
export { DialectError, formatDiagnostics, type Diagnostic, type Severity } from "./diagnostics.js";
export { sectionFor, type ProgramFunction } from "./rewrite.js";
export { type KernelSetup } from "./kernel-adapter.js";
