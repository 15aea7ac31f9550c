// The tool registry: every tool the `tsbcc` command runs, with its one-line description (from its spec).
// Adding a tool = one import and one entry here, plus its export in ../index.ts.
import type { CliTool } from "./tool.js";
import { tool as execsnoop } from "../execsnoop.js";
import { tool as opensnoop } from "../opensnoop.js";
import { tool as exitsnoop } from "../exitsnoop.js";
import { tool as killsnoop } from "../killsnoop.js";
import { tool as syscount } from "../syscount.js";
import { tool as statsnoop } from "../statsnoop.js";
import { tool as mountsnoop } from "../mountsnoop.js";
import { tool as tplist } from "../tplist.js";
import { tool as biolatency } from "../biolatency.js";
import { tool as runqlat } from "../runqlat.js";
import { tool as runqslower } from "../runqslower.js";
import { tool as cpudist } from "../cpudist.js";
import { tool as softirqs } from "../softirqs.js";
import { tool as hardirqs } from "../hardirqs.js";
import { tool as biosnoop } from "../biosnoop.js";
import { tool as bitesize } from "../bitesize.js";
import { tool as oomkill } from "../oomkill.js";
import { tool as tcplife } from "../tcplife.js";
import { tool as tcpstates } from "../tcpstates.js";
import { tool as tcpconnect } from "../tcpconnect.js";
import { tool as tcpaccept } from "../tcpaccept.js";
import { tool as drsnoop } from "../drsnoop.js";
import { tool as tcpretrans } from "../tcpretrans.js";
import { tool as capable } from "../capable.js";
import { tool as web } from "../web/command.js";
import { tool as vfsstat } from "../vfsstat.js";
import { tool as filetop } from "../filetop.js";
import { tool as biotop } from "../biotop.js";
import { tool as filelife } from "../filelife.js";
import { tool as ext4slower } from "../ext4slower.js";
import { tool as cachestat } from "../cachestat.js";
import { tool as tcpdrop } from "../tcpdrop.js";
import { tool as tcptop } from "../tcptop.js";
import { tool as xfsslower } from "../xfsslower.js";
import { tool as btrfsslower } from "../btrfsslower.js";
import { tool as profile } from "../profile.js";
import { tool as offcputime } from "../offcputime.js";
import { tool as funccount } from "../funccount.js";
import { tool as stackcount } from "../stackcount.js";
import { tool as funclatency } from "../funclatency.js";
import { tool as gethostlatency } from "../gethostlatency.js";
import { tool as bashreadline } from "../bashreadline.js";
import { tool as memleak } from "../memleak.js";
import { tool as nodestall } from "../nodestall.js";
import { tool as sslsniff } from "../sslsniff.js";
import { tool as runqlen } from "../runqlen.js";
import { tool as argdist } from "../argdist.js";
import { tool as trace } from "../trace.js";

export const TOOLS: readonly CliTool[] = [
  execsnoop, opensnoop, exitsnoop, killsnoop, syscount, statsnoop, mountsnoop, tplist, biolatency, runqlat, runqslower, cpudist, softirqs, hardirqs, biosnoop, bitesize, oomkill, tcplife, tcpstates, tcpconnect, tcpaccept, drsnoop, tcpretrans, capable, web,
  // kprobe/fentry tools with tracepoint fallbacks
  vfsstat, filetop, biotop, filelife, ext4slower, cachestat, tcpdrop, tcptop, xfsslower, btrfsslower,
  // user-space tracing, stacks and perf-event sampling
  profile, offcputime, funccount, stackcount, funclatency, gethostlatency, bashreadline, memleak, nodestall, sslsniff, runqlen, argdist, trace,
// Code-unit order (tool names are lowercase ASCII): localeCompare would load ICU's collator, ~6 ms of every start.
].sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0));

export function findTool(name: string): CliTool | undefined {
  return TOOLS.find((t) => t.spec.name === name);
}

/** The tool list `tsbcc --help` prints. */
export function toolList(): string {
  const width = Math.max(...TOOLS.map((t) => t.spec.name.length)) + 2;
  return TOOLS.map((t) => `  ${t.spec.name.padEnd(width)}${t.spec.description}`).join("\n");
}
