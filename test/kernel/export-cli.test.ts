// Tier 2: the exporter options of the tools framework. Every interval tool (spec.json "interval") lists
// --prometheus/--otlp in its --help and an event tool does not; wrong input is a usage error (exit 2) naming the
// option (nonsense, a bad port, a non-HTTP URL, a non-loopback address without --allow-remote, --otlp-interval
// without --otlp); a port in use fails with the bind error (exit 1) before the tool loads anything; with
// --allow-remote a wildcard address serves. A tool that prints only at the end still serves up-to-date metrics
// while it runs (the framework reads it every second), and its printed summary is their sum.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { liveFds } from "../../src/sys/index.js";
import { findTool, TOOLS } from "../../src/tools/lib/registry.js";
import { toolUsage } from "../../src/tools/lib/tool.js";
import { sleepMs, startTool, toolSkip } from "../helpers/tool-run.js";
import { histogramRows } from "../helpers/tsbcc-cli.js";

const skip = await toolSkip();

test("interval tools list the exporter options, event tools do not", () => {
  const interval = TOOLS.filter((t) => t.spec.json === "interval");
  assert.ok(interval.length >= 7, `${interval.length} interval tools`);
  for (const t of interval) {
    for (const opt of ["--prometheus HOST:PORT", "--otlp URL", "--otlp-interval SECS", "--allow-remote"]) {
      assert.ok(toolUsage(t.spec).includes(opt), `${t.spec.name} --help lacks ${opt}`);
    }
  }
  assert.ok(!toolUsage(findTool("execsnoop")!.spec).includes("--prometheus"));
});

test("wrong exporter options: usage errors naming the option, a taken port fails before loading", async () => {
  const runqlat = findTool("runqlat")!;
  const cases: [string[], RegExp][] = [
    [["--prometheus", "nonsense"], /argument --prometheus: expected HOST:PORT/],
    [["--prometheus", "127.0.0.1:70000"], /argument --prometheus: expected HOST:PORT/],
    [["--prometheus", "0.0.0.0:9100"], /argument --prometheus: 0\.0\.0\.0:9100 is not a loopback address \(add --allow-remote/],
    [["--otlp", "ftp://127.0.0.1/"], /argument --otlp: must be an http:\/\/ or https:\/\/ URL/],
    [["--otlp", "not a url"], /argument --otlp: not a URL/],
    [["--otlp-interval", "1"], /argument --otlp-interval: needs --otlp/],
    [["--otlp", "http://127.0.0.1:1", "--otlp-interval", "0"], /argument --otlp-interval: must be a positive number/],
    [["--allow-remote"], /argument --allow-remote: needs --prometheus/],
  ];
  for (const [argv, re] of cases) {
    const run = startTool(runqlat, argv);
    assert.equal(await run.done, 2, argv.join(" "));
    assert.match(run.err(), re, argv.join(" "));
  }
  const execsnoop = startTool(findTool("execsnoop")!, ["--prometheus", "127.0.0.1:0"]);
  assert.equal(await execsnoop.done, 2);
  assert.match(execsnoop.err(), /unrecognized arguments: --prometheus/);

  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
  try {
    const fds = liveFds().size;
    const port = (taken.address() as { port: number }).port;
    const run = startTool(runqlat, ["--prometheus", `127.0.0.1:${port}`, "1", "1"]);
    assert.equal(await run.done, 1);
    assert.match(run.err(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    assert.equal(run.out(), "", "the tool started although its exporter could not");
    assert.equal(liveFds().size, fds);
  } finally {
    taken.close();
  }
});

test("--allow-remote serves on a wildcard address; a tool printing at the end serves while it runs", { skip, timeout: 60_000 }, async (t) => {
  const run = startTool(findTool("runqlat")!, ["--prometheus", "0.0.0.0:0", "--allow-remote"]);
  try {
    for (let i = 0; i < 400 && !/serving/.test(run.err()); i++) await sleepMs(25);
    const port = /serving Prometheus metrics at http:\/\/0\.0\.0\.0:(\d+)\/metrics/.exec(run.err())?.[1];
    assert.ok(port, run.err());
    assert.ok(await run.waitFor(/Tracing run queue latency/));
    // No interval: BCC's runqlat prints once at Ctrl-C, but the metric grows while it runs.
    const count = async (): Promise<number> =>
      Number(/^tsbcc_runqlat_runq_latency_usecs_count (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1] ?? 0);
    let first = 0;
    for (let i = 0; i < 100 && first === 0; i++) {
      await sleepMs(100);
      first = await count();
    }
    await sleepMs(2200);
    const second = await count();
    t.diagnostic(`count ${first} then ${second} while running`);
    assert.ok(first > 0 && second > first, `metric did not grow while running: ${first}, ${second}`);
    assert.equal(run.out().match(/usecs\s+: count/g)?.length ?? 0, 0, "printed before Ctrl-C");
    assert.equal(await run.stop(), 0);
    // The printed summary is the sum of every read the exporter got (all of them, the last one included).
    const printed = [...histogramRows(run.out()).values()].reduce((a, b) => a + b, 0);
    assert.ok(printed >= second, `printed ${printed} < ${second} served`);
  } finally {
    await run.stop();
  }
});
