// Tier 1: the tools' shared framework without a kernel: argparse-style parsing and help, the interval data shape
// and its BCC text, address and flag formatting, the registry and every tool's --help.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { formatUsage, parseCommandLine, type ArgsSpec } from "../../src/tools/lib/args.js";
import { UsageError } from "../../src/tools/lib/errors.js";
import { formatHistogramMetric, histogramMetric, slotsOf } from "../../src/tools/lib/histogram.js";
import { linearBuckets, log2Buckets } from "../../src/tools/lib/metrics.js";
import { TOOLS, findTool, toolList } from "../../src/tools/lib/registry.js";
import { formatAddr, parsePortList, portCondition } from "../../src/tools/lib/tcp.js";
import { anySignal, stopSignal } from "../../src/tools/lib/stream.js";
import { jsonLine, runTool } from "../../src/tools/lib/tool.js";
import { parseFormatFields } from "../../src/tools/tplist.js";
import { rwbsFlags } from "../../src/tools/biolatency.js";
import { describeMountCall } from "../../src/tools/mountsnoop.js";
import { exitDescription } from "../../src/tools/exitsnoop.js";

const spec: ArgsSpec = {
  prog: "tsbcc demo",
  description: "Demo tool",
  options: [
    { name: "timestamp", short: "T", long: "timestamp", kind: "flag", help: "time" },
    { name: "failed", short: "x", long: "failed", kind: "flag", help: "failed" },
    { name: "pid", short: "p", long: "pid", kind: "value", parse: "uint", help: "pid" },
    { name: "flag", short: "f", long: "flag_filter", kind: "list", help: "flags" },
    { name: "mode", long: "mode", kind: "value", choices: ["a", "b"], help: "mode" },
    { name: "verbose", short: "v", kind: "count", help: "more" },
  ],
  positionals: [{ name: "interval", parse: "number", help: "interval" }, { name: "count", parse: "int", help: "count" }],
  examples: [["tsbcc demo -p 1", "one pid"]],
};

test("argparse conventions: clusters, attached values, long forms, prefixes, lists, counts, positionals", () => {
  const { values } = parseCommandLine(spec, ["-Txp123", "--flag_filter=O_RDWR", "-f", "O_CREAT", "--mo", "b", "-vv", "2", "5"]);
  assert.deepEqual([values.timestamp, values.failed, values.pid, values.flag, values.mode, values.verbose, values.interval, values.count],
    [true, true, 123, ["O_RDWR", "O_CREAT"], "b", 2, 2, 5]);
  assert.equal(parseCommandLine(spec, ["--pid", "7"]).values.pid, 7);
  assert.equal(parseCommandLine(spec, ["-h"]).help, true);
  assert.equal(parseCommandLine(spec, []).values.timestamp, false);
});

test("usage errors name the argument as argparse does", () => {
  const err = (argv: string[]): string => {
    try {
      parseCommandLine(spec, argv);
    } catch (e) {
      assert.ok(e instanceof UsageError);
      assert.equal((e as UsageError).code, "USAGE");
      return (e as Error).message;
    }
    return "no error";
  };
  assert.equal(err(["-p", "x"]), "argument -p/--pid: invalid int value: 'x'");
  assert.equal(err(["-p", "-3"]), "argument -p/--pid: must be zero or positive: '-3'");
  assert.equal(err(["-p"]), "argument -p/--pid: expected one argument");
  assert.equal(err(["--mode", "c"]), "argument --mode: invalid choice: 'c' (choose from 'a', 'b')");
  assert.equal(err(["-Q"]), "unrecognized arguments: -Q");
  assert.equal(err(["1", "2", "3"]), "unrecognized arguments: 3");
  assert.equal(err(["--timestamp=1"]), "argument -T/--timestamp: ignored explicit argument '1'");
  assert.equal(err(["x"]), "argument interval: invalid float value: 'x'");
});

test("-4/-6 are options when the tool has them, negative numbers otherwise", () => {
  const withFamily: ArgsSpec = { ...spec, options: [...spec.options, { name: "ipv4", short: "4", long: "ipv4", kind: "flag", help: "v4" }] };
  assert.equal(parseCommandLine(withFamily, ["-4"]).values.ipv4, true);
  assert.equal(parseCommandLine(spec, ["-4"]).values.interval, -4);
});

test("--help text: synopsis, options with metavars, examples", () => {
  const text = formatUsage(spec);
  assert.match(text, /^usage: tsbcc demo \[-h\] \[-T\] \[-x\] \[-p PID\] \[-f FLAG\] \[--mode MODE\] \[-v\]\n +\[interval\] \[count\]\n\nDemo tool\n/);
  assert.match(text, /\n  -p PID, --pid PID     pid\n  -f FLAG, --flag_filter FLAG\n {24}flags\n/);
  assert.match(text, /\nexamples:\n    tsbcc demo -p 1  # one pid\n$/);
});

test("log2 and linear buckets follow BCC's rows; slots come back from buckets", () => {
  assert.deepEqual(log2Buckets([1, 2, 0, 5]), [{ low: 0, high: 1, count: 3 }, { low: 2, high: 3, count: 0 }, { low: 4, high: 7, count: 5 }]);
  assert.deepEqual(log2Buckets([0, 0]), []);
  assert.deepEqual(linearBuckets([0, 4, 1], 10), [{ low: 0, high: 9, count: 0 }, { low: 10, high: 19, count: 4 }, { low: 20, high: 29, count: 1 }]);
  const m = histogramMetric({ name: "x", unit: "usecs", help: "h" }, [{ labels: { pid: "1" }, slots: [0, 3, 5, 0, 9], sum: 42 }]);
  assert.equal(m.series[0].count, 17);
  assert.equal(m.series[0].sum, 42);
  assert.deepEqual(slotsOf(m, m.series[0]), [0, 3, 5, 0, 9]);
  assert.equal(formatHistogramMetric(m, (l) => `pid = ${l.pid}`),
    "\npid = 1\n" +
    "     usecs               : count     distribution\n" +
    "         0 -> 1          : 3        |*************                           |\n" +
    "         2 -> 3          : 5        |**********************                  |\n" +
    "         4 -> 7          : 0        |                                        |\n" +
    "         8 -> 15         : 9        |****************************************|\n");
});

test("addresses, ports, block flags, mount calls and exit codes print as BCC prints them", () => {
  assert.equal(formatAddr(2, [127, 0, 0, 1, 0, 0]), "127.0.0.1");
  assert.equal(formatAddr(10, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), "::1");
  assert.equal(formatAddr(10, [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd]), "fe80::abcd");
  assert.deepEqual(parsePortList("80,443"), [80, 443]);
  assert.throws(() => parsePortList("80,x"), /invalid port list/);
  assert.equal(portCondition("p", [1, 2]), "(p == 1 || p == 2)");
  assert.equal(portCondition("p", []), "1");
  assert.equal(rwbsFlags("RA"), "ReadAhead-Read");
  assert.equal(describeMountCall({ call: "umount", target: "/mnt", flags: 2, ret: -22 } as never), 'umount("/mnt", MNT_DETACH) = -EINVAL');
  assert.equal(describeMountCall({ call: "mount", source: "a", target: "/b", fstype: "tmpfs", data: "", flags: 1 | 4096, ret: 0 } as never),
    'mount("a", "/b", "tmpfs", MS_RDONLY|MS_BIND, "") = 0');
  assert.equal(exitDescription({ exitCode: 0, coreDumped: false } as never), "0");
  assert.equal(exitDescription({ signal: 11, coreDumped: true } as never), "signal 11 (SEGV), core dumped");
  assert.equal(jsonLine({ a: 1n, b: 2n ** 64n }), '{"a":1,"b":"18446744073709551616"}\n');
});

test("tplist parses a tracepoint format's own fields", () => {
  const fields = parseFormatFields("\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
    "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n");
  assert.deepEqual(fields.map((f) => [f.declaration, f.name, f.type, f.offset, f.signed]),
    [["char prev_comm[16]", "prev_comm", "char[16]", 8, false], ["pid_t prev_pid", "prev_pid", "pid_t", 24, true]]);
});

test("the registry: unique names, one-line descriptions, every tool in tsbcc --help and answering --help", async () => {
  const names = TOOLS.map((t) => t.spec.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.length >= 24, names.join(" "));
  const list = toolList();
  for (const t of TOOLS) {
    assert.ok(t.spec.description.length > 0 && !t.spec.description.includes("\n"), t.spec.name);
    assert.ok(list.includes(`  ${t.spec.name} `), t.spec.name);
    assert.equal(findTool(t.spec.name), t);
    let out = "";
    const code = await runTool(t, ["--help"], { out: { write: (s: string) => (out += s) }, err: { write: () => true }, signal: new AbortController().signal });
    assert.equal(code, 0);
    assert.match(out, new RegExp(`^usage: tsbcc ${t.spec.name} \\[-h\\]`));
    assert.match(out, /\n  --json +/, `${t.spec.name} takes --json`);
    assert.match(out, /\nexamples:\n/);
  }
  assert.equal(findTool("nope"), undefined);
});

test("rest positionals: a command keeps its own options; interleaved ones (trace's probes) let options follow", () => {
  const options = [{ name: "name", short: "n", long: "name", kind: "value" as const, help: "comm" }];
  const command: ArgsSpec = { prog: "t", description: "", options, positionals: [{ name: "cmd", rest: true, required: true, help: "command" }] };
  assert.deepEqual(parseCommandLine(command, ["ls", "-n", "x"]).values.cmd, ["ls", "-n", "x"]);
  const probes: ArgsSpec = { prog: "t", description: "", options, positionals: [{ name: "probes", rest: true, interleaved: true, required: true, help: "probes" }] };
  const v = parseCommandLine(probes, ["p:c:write", "-n", "main", "t:syscalls:sys_enter_getpid"]).values;
  assert.deepEqual([v.probes, v.name], [["p:c:write", "t:syscalls:sys_enter_getpid"], "main"]);
  assert.deepEqual(parseCommandLine(probes, ["p:c:write", "--", "-n"]).values.probes, ["p:c:write", "-n"]);
});

test("batched readers: a wakeup per quarter ring (at most 32 records); 128-page rings up to 8 CPUs, BCC's 64 beyond", async () => {
  const { batchedRingPages, batchedWakeup } = await import("../../src/tools/lib/stream.js");
  assert.equal(batchedWakeup(128, 304), 32);
  assert.equal(batchedWakeup(1, 304), 3, "a one-page ring wakes per quarter: 4096 / 320 / 4");
  assert.equal(batchedWakeup(1, 8000), 1, "never below one record");
  assert.deepEqual([1, 2, 8, 9, 64].map((n) => batchedRingPages(n)), [128, 128, 128, 64, 64]);
});

test("stop signals: a duration and a caller's AbortSignal.timeout still fire after a garbage collection", async () => {
  // Node 20 holds AbortSignal.timeout inside AbortSignal.any only weakly: a collection before it fires lost it and
  // a `duration` stream never ended (a hung CI run). Ours keep a timer / a listener.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const own = new AbortController();
  const byDuration = stopSignal({ duration: 0.2 }, own);
  const caller = anySignal([new AbortController().signal, AbortSignal.timeout(200)]);
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const started = Date.now();
  await Promise.all([byDuration, caller].map((s) => new Promise<void>((resolve, reject) => {
    s.addEventListener("abort", () => resolve(), { once: true });
    setTimeout(() => reject(new Error("signal never aborted")), 2000).unref();
  })));
  assert.ok(Date.now() - started < 1000);
  assert.ok(own.signal.aborted);

  const first = new AbortController();
  first.abort("why");
  assert.equal(anySignal([new AbortController().signal, first.signal]).reason, "why");
  const plain = new AbortController();
  const closedEarly = stopSignal({ duration: 1e9, signal: plain.signal }, new AbortController());
  plain.abort();
  assert.ok(closedEarly.aborted); // and its timer is gone: this file ends without waiting for it
});
