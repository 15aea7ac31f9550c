// kprobes made through tracefs `kprobe_events`, for what the perf kprobe PMU cannot express (a kretprobe's
// maxactive). Unlike PMU probes these outlive the process, so each is named `tsbcc/<event>_<pid>`, removed when
// its link closes (also on exit, SIGINT, SIGTERM through the cleanup registry), and entries left by tsbcc
// processes that died without cleaning up (SIGKILL) are removed by the next tsbcc process that uses kprobes.
import { ArgumentError } from "../errors.js";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { perf, SyscallError } from "../sys/index.js";
import { tracefsPath } from "../kernel/tracefs.js";
import { processAlive } from "../kernel/process.js";
import { attachToPerfEvent } from "./perf-event-link.js";
import { AttachError, type Link } from "./link.js";

export const KPROBE_GROUP = "tsbcc";

function eventsFile(): string {
  return join(tracefsPath(), "kprobe_events");
}

function write(line: string): void {
  // O_APPEND: opening kprobe_events for writing without it clears every probe on the system.
  appendFileSync(eventsFile(), `${line}\n`);
}

/** Our probe names in kprobe_events ("tsbcc/r_vfs_read_1234"), with the owning pid. */
export function ourKprobeEvents(): { name: string; pid: number; line: string }[] {
  let text: string;
  try {
    text = readFileSync(eventsFile(), "utf8");
  } catch {
    return [];
  }
  const out: { name: string; pid: number; line: string }[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^[pr]\d*:([^/\s]+)\/(\S+_(\d+))\s/);
    if (m && m[1] === KPROBE_GROUP) out.push({ name: m[2]!, pid: Number(m[3]), line });
  }
  return out;
}

let staleSwept = false;

/** Removes `tsbcc/*_<pid>` probes whose process is gone (once per process unless `force`). Returns their names. */
export function removeStaleKprobeEvents(force = false): string[] {
  if (staleSwept && !force) return [];
  staleSwept = true;
  const removed: string[] = [];
  for (const ev of ourKprobeEvents()) {
    if (ev.pid === process.pid || processAlive(ev.pid)) continue;
    try {
      write(`-:${KPROBE_GROUP}/${ev.name}`);
      removed.push(ev.name);
    } catch {
      // Busy (someone has it open) or already gone: leave it.
    }
  }
  return removed;
}

export interface TracefsKprobeOptions {
  retprobe?: boolean;
  offset?: number;
  /** Return-probe instances that may be pending at once (kretprobes only; 0: the kernel's default). */
  maxactive?: number;
}

const used = new Set<string>();

/** Creates the probe in kprobe_events, opens it as a tracepoint perf event and attaches the program. */
export function attachKprobeTracefs(progFd: number, fn: string, opts: TracefsKprobeOptions = {}): Link {
  const maxactive = opts.maxactive ?? 0;
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(maxactive) || maxactive < 0) throw new ArgumentError("maxactive", `must be a non-negative integer, got ${maxactive}`);
  if (maxactive && !opts.retprobe) throw new ArgumentError("maxactive", "applies to kretprobes only");
  if (!/^[\w.]+$/.test(fn)) throw new ArgumentError("event", `bad function name ${JSON.stringify(fn)}`);
  removeStaleKprobeEvents();
  const kind = opts.retprobe ? "r" : "p";
  const base = `${kind}_${fn.replace(/[^A-Za-z0-9_]/g, "_")}${offset ? `_${offset}` : ""}`;
  let ev = `${base}_${process.pid}`;
  for (let i = 1; used.has(ev); i++) ev = `${base}_${i}_${process.pid}`;
  const target = `${opts.retprobe ? "kretprobe" : "kprobe"} ${fn}${offset ? `+${offset}` : ""}`;
  const spec = `${kind}${maxactive || ""}:${KPROBE_GROUP}/${ev} ${fn}${offset ? `+${offset}` : ""}`;
  try {
    write(spec);
  } catch (e) {
    throw new AttachError(target, `writing "${spec}" to ${eventsFile()} failed (${(e as NodeJS.ErrnoException).code ?? e}): ` +
      `${fn} is not traceable, or maxactive is too large`, { cause: e });
  }
  used.add(ev);
  const remove = (): void => {
    used.delete(ev);
    try {
      write(`-:${KPROBE_GROUP}/${ev}`);
    } catch {
      // Already removed by someone else.
    }
  };
  try {
    const id = Number(readFileSync(join(tracefsPath(), "events", KPROBE_GROUP, ev, "id"), "utf8").trim());
    const fd = perf.perfEventOpen({ type: perf.PerfType.TRACEPOINT, config: id, samplePeriod: 1, wakeupEvents: 1 }, -1, 0, target);
    const link = attachToPerfEvent(progFd, fd, `${target} (${KPROBE_GROUP}/${ev})`);
    link.onClose(remove);
    return link;
  } catch (e) {
    remove();
    if (e instanceof SyscallError) throw new AttachError(target, e.message, { cause: e });
    throw e;
  }
}
