// Public surface of symbolization: the Symbolizer (kernel and user addresses, build-id frames), stack helpers,
// and the pieces for callers that need one source directly (kallsyms, one module's symbols, perf maps).
export { Symbolizer, defaultSymbolizer, formatSymbol, UNKNOWN, type SymOptions, type SymbolizerOptions, type BuildIdAddress } from "./symbolizer.js";
export { symbolizeStack, symbolizeFrame, symbolizeAddresses, stackAddresses, type StackSymOptions, type WalkableStackTable } from "./stacks.js";
export { KernelSymbols, type KernelSymbol } from "./kallsyms.js";
export { ModuleSymbols } from "./elf-symbols.js";
export { loadModuleSymbols, debugFileByBuildId, DEFAULT_DEBUG_ROOT } from "./debug-files.js";
export { PerfMap } from "./perf-map.js";
export { demangle, haveDemangler } from "./demangle.js";
