import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  formatTraceFields,
  parseTraceLine,
  pyFormat,
  UNKNOWN_TRACE_FIELDS,
  type TraceFields,
} from "../../src/api/tracepipe-parse.js";
import { TracePipe } from "../../src/api/tracepipe.js";

const SPEC_LINE = "         python3-14087   [001] ...21   787.871228: bpf_trace_printk: hello count=12345 fd=8";

// Lines of every shape the parser must agree with BCC on (checked against BCC itself below).
const LINES: string[] = [
  SPEC_LINE,
  "           <...>-22241   [000] ...1.   607.144244: tracing_mark_write: tsbcc-probe-22241\n",
  "   kworker/u16:2-12345   [003] d..2. 12345.000001: bpf_trace_printk: a: b: c",
  "            bash-123     [000] d...     12.345000: 0x00000001: old kernels print the address",
  "            bash-123     [000] d...     12.345000: : empty symbol",
  "CPU:3 [LOST 120 EVENTS]",
  "            bash-123   [000]    12.3: no flags column",
  "            bash-12x   [000] d..1   100.5: foo: pid is not a number",
  "            bash-12   [00x] d..1   100.5: foo: cpu is not a number",
  "            bash-12   [000] d..1   1e3x: foo: ts is not a number",
  "            bash-1_000   [+02] d..1   -1_0.5e1: foo: python int/float syntax",
  "no colon at all in this line, just words and words",
  "",
  "           ab cd-77      [001] .N.1.   0.000001: bpf_trace_printk: task with a space   ",
  "      caf\u00e9-b\u00e4r-4242    [001] ....   3.5: bpf_trace_printk: utf-8 task",
  "  tab\there-1 [0] f 1: x: y",
  "            bash-123   [000] d..1   5: bpf_trace_printk:",
  "            bash-123   [000] d..1   5: bpf_trace_printk:x",
];

test("the spec example parses into BCC's six fields", () => {
  assert.deepEqual(parseTraceLine(SPEC_LINE), {
    task: "python3",
    pid: 14087,
    cpu: 1,
    flags: "...21",
    ts: 787.871228,
    msg: "hello count=12345 fd=8",
  });
});

test("skipped lines, unknown tuple and edge shapes", () => {
  assert.equal(parseTraceLine("CPU:3 [LOST 120 EVENTS]"), null);
  assert.equal(parseTraceLine("            bash-123   [000]    12.3: no flags column"), null);
  assert.deepEqual(parseTraceLine("            bash-12x   [000] d..1   100.5: foo: bar"), { ...UNKNOWN_TRACE_FIELDS });
  assert.deepEqual(UNKNOWN_TRACE_FIELDS, { task: "Unknown", pid: 0, cpu: 0, flags: "Unknown", ts: 0, msg: "Unknown" });
  const colonTask = parseTraceLine("   kworker/u16:2-12345   [003] d..2. 12345.000001: bpf_trace_printk: a: b: c");
  assert.deepEqual(colonTask, { task: "kworker/u16:2", pid: 12345, cpu: 3, flags: "d..2.", ts: 12345.000001, msg: "a: b: c" });
  assert.equal(parseTraceLine("            bash-123     [000] d...     12.345000: 0x00000001: old kernel")?.msg, "old kernel");
  // Python int()/float() syntax: underscores, signs.
  const py = parseTraceLine("            bash-1_000   [+02] d..1   -1_0.5e1: foo: x");
  assert.deepEqual([py?.pid, py?.cpu, py?.ts], [1000, 2, -105]);
  assert.equal(parseTraceLine("            bash-1   [000] d..1   nan: foo: x")?.ts, NaN);
  // Bytes are what BCC slices: a 2-byte UTF-8 character counts twice in the 16-column task field.
  assert.equal(parseTraceLine("      caf\u00e9-b\u00e4r-4242    [001] ....   3.5: bpf_trace_printk: x")?.task, "caf\u00e9-b\u00e4r");
  assert.deepEqual(parseTraceLine(new TextEncoder().encode(SPEC_LINE)), parseTraceLine(SPEC_LINE));
});

test("positional formats follow Python str.format", () => {
  const f = parseTraceLine(SPEC_LINE) as TraceFields;
  assert.equal(formatTraceFields("pid {1}, msg = {5}", f), "pid 14087, msg = hello count=12345 fd=8");
  assert.equal(formatTraceFields("{0:>10}|{4:.3f}|{2:03}|{3:<7}|{{x}}", f), "   python3|787.871|001|...21  |{x}");
  assert.equal(formatTraceFields("{}-{}", f), "python3-14087");
  assert.equal(formatTraceFields("{4}", { ...f, ts: 5 }), "5.0");
  assert.equal(pyFormat("{0:^9}|{1:+d}|{1:,}|{2:x}", ["ab", 1234567, 255]), "   ab    |+1234567|1,234,567|ff");
  assert.throws(() => pyFormat("{7}", ["a"]), { code: "BAD_ARGUMENT" });
  assert.throws(() => pyFormat("{", ["a"]), /Single '\{'/);
});

const FORMATS = ["pid {1}, msg = {5}", "{0:>10}|{4:.3f}|{2:03}|{3:<7}|{{x}}", "{}-{}", "{4}", "{4:e} {4:g} {1:_} {1:08d} {0:*^12}"];

const PY_PARSE = String.raw`
import json, sys
from bcc import BPF
data = json.load(sys.stdin)
class Fake:
    def __init__(self, line):
        self.q = [line.encode("utf-8")]
    def trace_readline(self, nonblocking=False):
        # BCC's own trace_readline rstrips; an empty read means "no data" in nonblocking mode.
        return self.q.pop(0).rstrip() if self.q else b""
dec = lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else v
parsed = []
for line in data["lines"]:
    r = BPF.trace_fields(Fake(line), nonblocking=True)
    parsed.append(None if r[0] is None else [dec(x) for x in r])
formatted = []
for fmt in data["formats"]:
    fields = [dec(x) for x in BPF.trace_fields(Fake(data["lines"][0]), nonblocking=True)]
    formatted.append(fmt.format(*fields))
json.dump({"parsed": parsed, "formatted": formatted}, sys.stdout)
`;

test("agrees with BCC's trace_fields and str.format", (t) => {
  const probe = spawnSync("/usr/bin/python3", ["-c", "import bcc"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    t.skip("/usr/bin/python3 cannot import bcc (python3-bpfcc not installed)");
    return;
  }
  const out = execFileSync("/usr/bin/python3", ["-c", PY_PARSE], {
    input: JSON.stringify({ lines: LINES, formats: FORMATS }),
    encoding: "utf8",
  });
  const bcc = JSON.parse(out) as { parsed: (null | [string, number, number, string, number, string])[]; formatted: string[] };
  assert.equal(bcc.parsed.length, LINES.length);
  LINES.forEach((line, i) => {
    const r = bcc.parsed[i];
    const expected = r === null ? null : { task: r[0], pid: r[1], cpu: r[2], flags: r[3], ts: r[4], msg: r[5] };
    assert.deepEqual(parseTraceLine(line), expected, `line ${JSON.stringify(line)}`);
  });
  // Sanity: the list really covers parsed, skipped and unknown outcomes.
  assert.ok(bcc.parsed.some((r) => r === null));
  assert.ok(bcc.parsed.some((r) => r?.[0] === "Unknown"));
  const f = parseTraceLine(LINES[0]!) as TraceFields;
  FORMATS.forEach((fmt, i) => assert.equal(formatTraceFields(fmt, f), bcc.formatted[i], `format ${fmt}`));
});

test("reader assembles lines across reads, splits at 1024 bytes and stops on abort", async () => {
  // A regular file stands in for trace_pipe: at its end read() returns 0, which the reader
  // treats like an empty pipe (keep polling) — the same path as EAGAIN.
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-tp-"));
  const file = join(dir, "pipe");
  try {
    writeFileSync(file, "line one\nline tw");
    const tp = await TracePipe.open(file);
    assert.equal(await tp.readline(), "line one");
    assert.equal(await tp.readline({ nonblocking: true }), null); // partial line only
    appendFileSync(file, "o  \r\n" + "x".repeat(1030) + "\n" + SPEC_LINE + "\n");
    assert.equal(await tp.readline(), "line two");
    assert.equal(await tp.readline(), "x".repeat(1024));
    assert.equal(await tp.readline(), "xxxxxx");
    assert.deepEqual(await tp.readFields({ nonblocking: true }), parseTraceLine(SPEC_LINE));

    // A waiting readline rejects with the abort reason; the iterators just end.
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 40);
    await assert.rejects(tp.readline({ signal: ac.signal }), { name: "AbortError" });
    assert.ok(Date.now() - started < 500, "abort is prompt");
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 300);
    const got: string[] = [];
    setTimeout(() => appendFileSync(file, "late line\n"), 5);
    for await (const l of tp.lines(ac2.signal)) got.push(l);
    assert.deepEqual(got, ["late line"]);
    await tp.close();
    assert.equal(tp.isClosed, true);
    await assert.rejects(tp.readline(), /closed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
