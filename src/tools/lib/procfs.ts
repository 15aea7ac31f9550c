// Small /proc lookups the tools' text output needs (BCC reads the same files).
import { readFileSync } from "node:fs";

/** The process's comm, or "[unknown]" when it has exited. */
export function processComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trimEnd();
  } catch {
    return "[unknown]";
  }
}
