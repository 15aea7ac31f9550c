// User names to uids (BCC's `-u user`), from /etc/passwd.
import { readFileSync } from "node:fs";
import { ErrorCode, TsbccError } from "../../errors.js";

/** A uid given as a number or a user name; throws for an unknown name. */
export function userId(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  let passwd = "";
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {
    // no passwd file: only numbers work
  }
  for (const line of passwd.split("\n")) {
    const [name, , uid] = line.split(":");
    if (name === text && uid !== undefined) return Number(uid);
  }
  throw new TsbccError(ErrorCode.USAGE, `no user named '${text}'`);
}
