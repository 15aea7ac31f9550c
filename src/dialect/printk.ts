// bpf_trace_printk format checks (bcc-spec 2f).
//
// The kernel's trace_printk helper takes at most 3 arguments after the format and accepts a small set of
// conversions; BCC warns about the rest at compile time. More than 3 arguments cannot be compiled at all (a BPF
// call has at most 5 arguments), so that one is an error here.

export interface FormatProblem {
  severity: "error" | "warning";
  message: string;
}

const ALLOWED = /^(?:[-+ #0]*\d*(?:\.\d+)?)(?:hh|h|ll|l|z)?[diuxXc]$|^(?:[-+ #0]*\d*)p[SsBKiI]?[46]?[hnlb]?$|^[-0-9.]*s$/;

/** Checks a printk format (already unescaped) against the number of arguments passed after it. */
export function checkPrintkFormat(format: string, argCount: number): FormatProblem[] {
  const problems: FormatProblem[] = [];
  if (argCount > 3) {
    problems.push({ severity: "error", message: `bpf_trace_printk takes at most 3 arguments after the format, got ${argCount}` });
  }
  for (const ch of format) {
    const c = ch.charCodeAt(0);
    if ((c < 0x20 || c > 0x7e) && ch !== "\n" && ch !== "\t") {
      problems.push({ severity: "warning", message: "bpf_trace_printk format contains non-printable characters" });
      break;
    }
  }
  let conversions = 0;
  let strings = 0;
  const re = /%(%|[-+ #0-9.]*(?:hh|h|ll|l|z)?[a-zA-Z][SsBKiI]?[46]?)/g;
  for (const m of format.matchAll(re)) {
    const spec = m[1]!;
    if (spec === "%") continue;
    conversions++;
    // %p may be followed by a letter that belongs to the text (%pid); accept the longest allowed prefix.
    let ok = ALLOWED.test(spec);
    if (!ok && spec.includes("p")) ok = ALLOWED.test(spec.slice(0, spec.indexOf("p") + 1));
    if (!ok) {
      problems.push({ severity: "warning", message: `only %d %u %x %ld %lu %lx %lld %llu %llx %p %s conversion specifiers allowed, found %${spec}` });
    }
    if (spec.endsWith("s") && !spec.includes("p")) strings++;
  }
  if (strings > 1) problems.push({ severity: "warning", message: "cannot use several %s conversion specifiers" });
  if (conversions > 3) problems.push({ severity: "warning", message: `bpf_trace_printk format has ${conversions} conversions; at most 3 are allowed` });
  else if (conversions !== argCount && argCount <= 3) {
    problems.push({ severity: "warning", message: `bpf_trace_printk format has ${conversions} conversion${conversions === 1 ? "" : "s"} but ${argCount} argument${argCount === 1 ? "" : "s"}` });
  }
  return problems;
}
