// Tier 2: gethostlatency sees the lookups test programs make through libc: a binary's getaddrinfo("localhost")
// (uprobe + uretprobe on libc) with its pid, comm, host and a positive latency, and `getent hosts` (gethostbyname2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { tool } from "../../src/tools/gethostlatency.js";
import { gethostlatency } from "../../src/tools/index.js";
import { haveGcc, hasTool } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { resolver } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");

test("gethostlatency -p PID: the child's getaddrinfo of localhost, BCC's columns", { skip }, async () => {
  const child = pausedChild(resolver(), ["localhost"]);
  const t = startTool(tool, ["-p", String(child.pid)]);
  assert.ok(await t.waitFor(/^TIME {6}PID {5}COMM {18}LATms HOST\n/), t.out() + t.err());
  assert.equal(await child.go(), 0);
  const line = await t.waitFor(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${child.pid} +tsbccdns +(\\d+\\.\\d\\d) localhost$`, "m"));
  assert.equal(await t.stop(), 0);
  assert.ok(line, t.out());
  assert.equal(t.out().trim().split("\n").length, 2, "only the filtered child's one lookup");
});

test("gethostlatency as a library sees getent hosts (gethostbyname2); wrong input", { skip: skip || (!hasTool("getent") && "getent is needed") }, async () => {
  const stream = await gethostlatency({ duration: 30 });
  execFileSync("getent", ["hosts", "localhost"]);
  const seen = [];
  for await (const ev of stream) {
    seen.push(ev);
    if (ev.comm === "getent") stream.close();
  }
  const mine = seen.find((e) => e.comm === "getent");
  assert.ok(mine, JSON.stringify(seen));
  assert.equal(mine.host, "localhost");
  assert.match(mine.function, /^gethostbyname2?$|^getaddrinfo$/);
  assert.ok(mine.latencyMs > 0);
  await assert.rejects(gethostlatency({ pid: -1 }), /pid must be/);
});
