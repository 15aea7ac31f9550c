// Why a test cannot run on this machine, decided once in one place: root for the kernel tier, clang for BPF
// fixtures, gcc for the exact load generators.
import { haveClang, haveGcc } from "./build.js";

/** Skips the test (with the reason) unless running as root; returns whether it may run. */
export function skipUnlessRoot(t: { skip(msg: string): void }, needs: string): boolean {
  if (process.getuid?.() !== 0) {
    t.skip(`needs root (${needs})`);
    return false;
  }
  return true;
}

/** The first missing requirement as a skip reason, or false when all are here: `missing("clang", "gcc", "root")`. */
export function missing(...needs: ("root" | "clang" | "gcc")[]): string | false {
  if (needs.includes("clang") && !haveClang) return "clang is needed to build the BPF fixtures";
  if (needs.includes("gcc") && !haveGcc) return "gcc is needed to build the load generators";
  if (needs.includes("root") && process.getuid?.() !== 0) return "needs root";
  return false;
}
