// trace's and argdist's -I HEADER: extra #include lines for the generated program. BCC includes a path (starting
// with "." or "/") as a quoted file and anything else as <HEADER> from the kernel header tree. Here there is no
// kernel header tree: kernel types come from BTF, and a kernel header name resolves to tsbcc's shim of it
// (include/kernel/, BTF types + the macros BTF lacks). So a header is taken when it is a file on disk (a path, or a
// name relative to the current directory) or a header name the shim tree has; anything else is a usage error
// that says where kernel types come from. A file's content is hashed into the program text, so the compile cache
// (keyed by the text) compiles again when the header changes.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { tsbccIncludeDir } from "../../dialect/clang.js";
import { UsageError } from "./errors.js";

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The #include line for one -I argument (throws UsageError naming it when it resolves to nothing). */
function includeLine(tool: string, header: string): string {
  if (typeof header !== "string" || header.trim() === "" || /[\n"<>]/.test(header)) throw new UsageError(tool, `-I/--include: invalid header ${JSON.stringify(header)}`);
  const path = resolve(header);
  const isPath = header.startsWith(".") || header.startsWith("/");
  if (isPath || isFile(path)) {
    if (!isFile(path)) throw new UsageError(tool, `-I/--include: ${header}: no such file`);
    let text: string;
    try {
      text = readFileSync(path, "latin1");
    } catch (e) {
      throw new UsageError(tool, `-I/--include: cannot read ${header} (${(e as NodeJS.ErrnoException).code})`);
    }
    return `#include "${path}" /* sha256 ${createHash("sha256").update(text).digest("hex").slice(0, 16)} */`;
  }
  if (existsSync(join(tsbccIncludeDir(), "kernel", header))) return `#include <${header}>`;
  throw new UsageError(tool, `-I/--include: ${header} is neither a file nor a kernel header tsbcc knows (such as linux/sched.h, ` +
    "net/sock.h); kernel structs come from the running kernel's BTF and need no header: name the struct in a cast or signature");
}

/** The #include lines of `headers` (in order, each once). */
export function extraIncludes(tool: string, headers: readonly string[] | undefined): string {
  if (headers === undefined) return "";
  if (!Array.isArray(headers)) throw new UsageError(tool, "includes must be an array of header names or paths");
  return [...new Set(headers.map((h) => includeLine(tool, h)))].map((l) => `${l}\n`).join("");
}
