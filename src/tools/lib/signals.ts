// Signal numbers and names (from Node's os.constants, i.e. this platform's), for tools that print them.
import { constants } from "node:os";
import { ErrorCode, TsbccError } from "../../errors.js";

const byNumber = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) if (!byNumber.has(num)) byNumber.set(num, name);

/** "INT" for 2; undefined for unknown numbers. */
export function signalName(n: number): string | undefined {
  return byNumber.get(n)?.replace(/^SIG/, "");
}

/** A signal given as a number or a name (INT, SIGINT). */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const name = text.toUpperCase().startsWith("SIG") ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new TsbccError(ErrorCode.USAGE, `unknown signal '${text}'`);
  return n;
}
