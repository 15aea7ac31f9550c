// Value names a tracepoint itself declares: the `__print_symbolic(REC->field, { 1, "NAME" }, ...)` tables of its
// format file (softirq vectors, TCP states, address families). Read from the running kernel, not hard-coded.
import { readFileSync } from "node:fs";
import { tracepointFormatPath } from "../../index.js";

const cache = new Map<string, Map<number, string>>();

/** Number -> name for `field` of `category:event` (empty when the format has no such table). */
export function symbolicNames(category: string, event: string, field: string): Map<number, string> {
  const id = `${category}:${event}:${field}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const names = new Map<number, string>();
  let text = "";
  try {
    text = readFileSync(tracepointFormatPath(category, event), "utf8");
  } catch {
    // no such tracepoint: no names
  }
  const start = text.indexOf(`__print_symbolic(REC->${field},`);
  if (start >= 0) {
    // The table runs to the parenthesis closing __print_symbolic.
    let depth = 0;
    let end = start;
    for (let i = start; i < text.length; i++) {
      if (text[i] === "(") depth++;
      else if (text[i] === ")" && --depth === 0) { end = i; break; }
    }
    for (const m of text.slice(start, end).matchAll(/\{\s*(-?\d+|0x[0-9a-fA-F]+)\s*,\s*"([^"]*)"\s*\}/g)) names.set(Number(m[1]), m[2]);
  }
  cache.set(id, names);
  return names;
}
