// ELF64 constants and the value types the reader hands out.
//
// Numbers vs bigints: file offsets and sizes of bytes that live in the file are plain numbers (the reader
// has checked them against the file length, so they are exact). Addresses, symbol values/sizes, relocation
// offsets/addends and anything else that can legally exceed 2^53 are bigints.
import { ErrorCode, TsbccError } from "../errors.js";

/** Every malformed or unsupported input is reported with this error type and nothing else. */
export class ElfError extends TsbccError {
  constructor(message: string) {
    super(ErrorCode.BAD_ELF, message);
  }
}

// e_ident
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

// e_type
export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

// e_machine (the ones tsbcc cares about)
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_BPF = 247;

// Special section indexes
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;
/** e_phnum value meaning "the real count is in section 0's sh_info". */
export const PN_XNUM = 0xffff;

// sh_type
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;
export const SHT_GNU_HASH = 0x6ffffff6;

// sh_flags (all defined bits are in the low 32 bits, so plain numbers and `&` work)
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;
export const SHF_GROUP = 0x200;
export const SHF_TLS = 0x400;
export const SHF_COMPRESSED = 0x800;

// Symbol type (low nibble of st_info)
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;

// Symbol binding (high nibble of st_info)
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;

// Symbol visibility (low 2 bits of st_other)
export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

// p_type
export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;
export const PT_GNU_PROPERTY = 0x6474e553;

// p_flags
export const PF_X = 0x1;
export const PF_W = 0x2;
export const PF_R = 0x4;

// Note types
export const NT_GNU_ABI_TAG = 1;
export const NT_GNU_BUILD_ID = 3;
export const NT_GNU_PROPERTY_TYPE_0 = 5;
/** Type of the SystemTap SDT (USDT) note, owner name "stapsdt". */
export const NT_STAPSDT = 3;

// BPF relocation types (clang -target bpf)
export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

// On-disk record sizes for ELF64
export const EHDR64_SIZE = 64;
export const SHDR64_SIZE = 64;
export const PHDR64_SIZE = 56;
export const SYM64_SIZE = 24;
export const REL64_SIZE = 16;
export const RELA64_SIZE = 24;

/** The fixed part of the ELF header. */
export interface ElfHeader {
  /** ELFOSABI_* byte (e_ident[7]). */
  osabi: number;
  /** ET_* */
  type: number;
  /** EM_* */
  machine: number;
  entry: bigint;
  flags: number;
  phoff: number;
  shoff: number;
  /** Real section count (extended numbering already resolved). */
  shnum: number;
  /** Real program header count (extended numbering already resolved). */
  phnum: number;
  /** Index of the section name string table (extended numbering already resolved); 0 = none. */
  shstrndx: number;
}

export interface ElfSection {
  index: number;
  name: string;
  /** SHT_* */
  type: number;
  /** SHF_* bits. */
  flags: number;
  addr: bigint;
  /** File offset of the data (meaningless for SHT_NOBITS). */
  offset: number;
  /** Size in bytes; for SHT_NOBITS the in-memory size (checked to be a safe integer). */
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** View into the file bytes (no copy); empty for SHT_NOBITS, SHT_NULL and empty sections. */
  data: Uint8Array;
}

export interface ElfSymbol {
  /** Index in its symbol table (relocations refer to this). */
  index: number;
  name: string;
  value: bigint;
  size: bigint;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  /** STV_* */
  visibility: number;
  /** Section index the symbol is defined in (SHN_XINDEX already resolved), or SHN_UNDEF/SHN_ABS/SHN_COMMON. */
  sectionIndex: number;
}

export interface ElfRelocation {
  /** Section offset (ET_REL) or virtual address (ET_EXEC/ET_DYN) the relocation patches. */
  offset: bigint;
  /** Index into the linked symbol table; 0 means "no symbol". */
  symbolIndex: number;
  /** The referenced symbol (index already checked to be in range). */
  symbol: ElfSymbol;
  /** Architecture specific R_* type. */
  type: number;
  /** Explicit addend for SHT_RELA, 0n for SHT_REL. */
  addend: bigint;
}

export interface ElfProgramHeader {
  index: number;
  /** PT_* */
  type: number;
  /** PF_* bits. */
  flags: number;
  /**
   * File offset and file size. Not checked against the file length, because separate debug-info files
   * keep their program headers while dropping the bytes; use `vaddrToFileOffset`, which does check.
   */
  offset: bigint;
  filesz: bigint;
  vaddr: bigint;
  paddr: bigint;
  memsz: bigint;
  align: bigint;
}

export interface ElfNote {
  /** Owner name without the terminating NUL ("GNU", "stapsdt", ...). */
  name: string;
  type: number;
  /** View of the descriptor bytes (no copy). */
  desc: Uint8Array;
  /** File offset of the note header. */
  offset: number;
  /** Section the note came from, or -1 when it came from a PT_NOTE segment. */
  sectionIndex: number;
}

/** One USDT probe, decoded from a "stapsdt" note. */
export interface StapsdtNote {
  provider: string;
  name: string;
  /** Argument description, e.g. "-4@%esi 8@%rdi" (empty when the probe has no arguments). */
  args: string;
  /** Probe address as written at link time. */
  pc: bigint;
  /** Link-time address of `.stapsdt.base` recorded in the note. */
  base: bigint;
  /** Semaphore address, 0n when the probe has none. */
  semaphore: bigint;
  /** `pc` corrected for prelinking: pc + (actual .stapsdt.base address - base); equals pc when unmoved. */
  adjustedPc: bigint;
}

export interface GnuDebuglink {
  file: string;
  crc: number;
}
