// tracefs: where tracepoint ids, formats, trace_pipe and trace_marker live.
//
// Modern kernels mount tracefs at /sys/kernel/tracing; older setups only expose it through
// debugfs at /sys/kernel/debug/tracing (an automount of the same filesystem). Minimal
// systems and containers often have neither mounted, so we mount it ourselves. mount(2) is
// deliberately not part of the native seam (src/sys/), hence the `mount` command.
import { ArgumentError } from "../errors.js";
import { ErrorCode, TsbccError } from "../errors.js";

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const PRIMARY = "/sys/kernel/tracing";
const DEBUGFS_PATH = "/sys/kernel/debug/tracing";

/** tracefs is missing and could not be mounted. */
export class TracefsError extends TsbccError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.TRACEFS, message, options);
  }
}

/** A `category:event` tracepoint that the running kernel does not have. */
export class UnknownTracepointError extends TsbccError {
  constructor(
    readonly category: string,
    readonly event: string,
    /** Existing `category:event` names close to the requested one, best first. */
    readonly suggestions: string[],
    message: string,
  ) {
    super(ErrorCode.NO_SUCH_TRACEPOINT, message);
  }
}

let cachedRoot: string | undefined;

// A tracefs instance is recognisable by its `events` directory; an empty mount point is not. One this user may
// not read (tracefs is mode 0700) is mounted all the same: that is a permission problem, not a missing mount.
function isMounted(dir: string): boolean {
  try {
    return statSync(join(dir, "events")).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EACCES") {
      throw new TsbccError(ErrorCode.PERMISSION, `tracefs at ${dir} is mounted but not readable by this user (it is mode 0700): ` +
        "tracing needs root, or CAP_BPF and CAP_PERFMON with access to tracefs", { cause: e });
    }
    return false;
  }
}

/** The mounted tracefs directory, or null when none is mounted. Does not mount anything. */
export function findTracefs(): string | null {
  if (cachedRoot !== undefined) return cachedRoot;
  for (const dir of [PRIMARY, DEBUGFS_PATH]) {
    if (isMounted(dir)) {
      cachedRoot = dir;
      return dir;
    }
  }
  return null;
}

/** Mount tracefs at /sys/kernel/tracing (needs CAP_SYS_ADMIN). Returns the mount point. */
export function mountTracefs(): string {
  try {
    execFileSync("mount", ["-t", "tracefs", "nodev", PRIMARY], { stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
  } catch (err) {
    // Another process may have mounted it between our check and our attempt.
    if (isMounted(PRIMARY)) return (cachedRoot = PRIMARY);
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const detail = e.code === "ENOENT" ? "the `mount` command was not found" : (e.stderr?.toString().trim() || e.message);
    const hints = [
      process.getuid?.() === 0 ? undefined : "run as root (mounting needs CAP_SYS_ADMIN)",
      tracefsInKernel() ? undefined : "this kernel does not list tracefs in /proc/filesystems (CONFIG_TRACING is off?)",
    ].filter((h): h is string => h !== undefined);
    throw new TracefsError(
      `tracefs is not mounted (checked ${PRIMARY} and ${DEBUGFS_PATH}) and mounting it failed: ` +
        `\`mount -t tracefs nodev ${PRIMARY}\`: ${detail}` + (hints.length ? `; ${hints.join("; ")}` : ""),
    );
  }
  if (!isMounted(PRIMARY)) throw new TracefsError(`mounted tracefs at ${PRIMARY} but it has no events directory`);
  return (cachedRoot = PRIMARY);
}

function tracefsInKernel(): boolean {
  try {
    return /\btracefs\b/.test(readFileSync("/proc/filesystems", "utf8"));
  } catch {
    return true; // unknown: do not claim otherwise
  }
}

/** The tracefs directory, mounting tracefs first when it is not mounted anywhere. Cached. */
export function tracefsPath(): string {
  return findTracefs() ?? mountTracefs();
}

// Names become path components below events/: refuse anything that could walk elsewhere.
function checkName(kind: string, name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw new ArgumentError(kind, `invalid tracepoint ${kind} name ${JSON.stringify(name)}`);
  }
}

function eventDir(category: string, event: string): string {
  checkName("category", category);
  checkName("event", event);
  return join(tracefsPath(), "events", category, event);
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** Does `<tracefs>/events/<category>/<event>` exist? */
export function tracepointExists(category: string, event: string): boolean {
  return isDir(eventDir(category, event));
}

/** Path of the tracepoint's `format` file (it describes the record layout). */
export function tracepointFormatPath(category: string, event: string): string {
  return join(eventDir(category, event), "format");
}

/**
 * The kernel's numeric id of a tracepoint (perf_event_attr.config for PERF_TYPE_TRACEPOINT).
 * Throws UnknownTracepointError, with close names, when the tracepoint does not exist.
 */
export function tracepointId(category: string, event: string): number {
  const dir = eventDir(category, event);
  const idPath = join(dir, "id");
  let text: string;
  try {
    text = readFileSync(idPath, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !isDir(dir)) throw unknownTracepoint(category, event);
    throw new TracefsError(`cannot read tracepoint id ${idPath}: ${(err as Error).message}`);
  }
  const id = Number(text.trim());
  if (!Number.isSafeInteger(id) || id < 0) throw new TracefsError(`unexpected content in ${idPath}: ${JSON.stringify(text)}`);
  return id;
}

/**
 * All tracepoints as `category:event`, sorted; with `re`, only those for which `re.test()`
 * is true (JavaScript semantics: anchor the expression yourself, e.g. /^sched:/).
 */
export function listTracepoints(re?: RegExp): string[] {
  const events = join(tracefsPath(), "events");
  const out: string[] = [];
  for (const cat of subdirs(events)) {
    for (const evt of subdirs(join(events, cat))) {
      const tp = `${cat}:${evt}`;
      if (re) re.lastIndex = 0; // a /g or /y expression keeps state between test() calls
      if (!re || re.test(tp)) out.push(tp);
    }
  }
  return out;
}

/** Levenshtein distance; names are short, so the O(n·m) table is fine. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function closest(target: string, candidates: string[], limit: number): string[] {
  const maxDist = Math.max(2, Math.floor(target.length / 3));
  return candidates
    .map((c) => ({ c, d: editDistance(target, c) }))
    .filter(({ d }) => d <= maxDist)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, limit)
    .map(({ c }) => c);
}

function unknownTracepoint(category: string, event: string): UnknownTracepointError {
  const root = tracefsPath();
  const events = join(root, "events");
  const categories = subdirs(events);
  const suggestions: string[] = [];
  const catExists = categories.includes(category);
  if (catExists) {
    for (const e of closest(event, subdirs(join(events, category)), 5)) suggestions.push(`${category}:${e}`);
  } else {
    // A misspelt category: look for the event under close category names.
    for (const c of closest(category, categories, 3)) {
      if (isDir(join(events, c, event))) suggestions.push(`${c}:${event}`);
    }
  }
  // The same event name may live in another category (e.g. after a kernel moved it).
  for (const c of categories) {
    const tp = `${c}:${event}`;
    if (c !== category && !suggestions.includes(tp) && existsSync(join(events, c, event))) suggestions.push(tp);
  }
  if (!catExists && suggestions.length === 0) {
    for (const c of closest(category, categories, 3)) suggestions.push(`${c}:*`);
  }
  const what = catExists
    ? `tracepoint ${category}:${event} does not exist (category ${category} has no event ${event})`
    : `tracepoint ${category}:${event} does not exist (no category ${category} in ${events})`;
  const hint = suggestions.length ? `; did you mean ${suggestions.join(", ")}?` : "";
  const how = catExists
    ? `list them with BPF.getTracepoints("${category}:.*") or \`ls ${join(events, category)}\``
    : `list them with BPF.getTracepoints() or \`ls ${events}\``;
  return new UnknownTracepointError(category, event, suggestions, `${what}${hint} (${how})`);
}
