// USDT: probes from `.note.stapsdt`, their argument specs, the USDT class, and the plan BPF.load attaches.
export { USDT, type EnabledProbe } from "./usdt.js";
export { parseUsdtArg, parseUsdtArgs, splitUsdtArgs, describeUsdtArg, type UsdtArg, type UsdtArgLocation, type RegisterRef } from "./args.js";
export { probesOfFile, probesOfProcess, type UsdtProbe, type UsdtLocation } from "./probes.js";
export { planUsdt, attachUsdt, type UsdtPlan, type UsdtAttachment } from "./attach.js";
