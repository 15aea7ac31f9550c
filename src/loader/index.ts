export { parseObject, ObjectError, type ObjectSpec, type ProgramSpec } from "./spec.js";
export { LoadedObject, MapCreateError, kernelObjectName, type LoadOptions, type LoadedMap } from "./load.js";
export { VerifierError, ProgramLoadError } from "./verifier.js";
export { MapDefinitionError, type MapSpec } from "./map-spec.js";
export { ProgType, MapType, AttachType, MapFlags, mapTypeName, progTypeName } from "../sys/abi.js";
export { classifySection, type SectionKind } from "./sections.js";
