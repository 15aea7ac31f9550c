// Public surface of the ELF reader: `ElfFile` (parse/open and queries), `ElfError`, the constants and the
// value types. See reader.ts for the parsing rules and types.ts for the number/bigint conventions.

export { ElfFile } from "./reader.js";
export { decodeBuildId, decodeDebuglink, decodeStapsdt, isStapsdtNote, parseNotes } from "./notes.js";
export * from "./types.js";
