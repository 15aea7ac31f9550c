// A binary's function symbols as `nm` lists them (name -> st_value), to check raw stack addresses a tool prints.
import { execFileSync } from "node:child_process";

export function nmFunctions(bin: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of execFileSync("nm", [bin], { encoding: "utf8" }).split("\n")) {
    const m = /^([0-9a-f]+) [Tt] (\S+)$/.exec(line);
    if (m) out.set(m[2]!, BigInt(`0x${m[1]}`));
  }
  return out;
}
