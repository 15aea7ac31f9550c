/** Public surface of the BTF layer: parser, type model, `.BTF.ext`, value codec. */
export { BtfError, type Bytes } from "./error.js";
export { Btf, type ParseOptions, type EnumeratorHit } from "./btf.js";
export { BTF_MAGIC, parseHeader, type BtfHeader } from "./parse.js";
export { btfIdentity, type IdentityOptions } from "./identity.js";
export * from "./types.js";
export { typeToString } from "./spell.js";
export {
  BtfExt, CORE_RELO_KINDS, concatLoadRecords,
  type CoreReloRecord, type ExtSection, type ForLoadOptions, type FuncInfoRecord, type LineInfoRecord,
  type LoadRecords, type SourceLine,
} from "./ext.js";
export { BtfBuilder, type BuilderMember } from "./builder.js";
export { Codec, codecFor, decodeValue, encodeValue, enumName, layoutOf, type Layout } from "./codec.js";
