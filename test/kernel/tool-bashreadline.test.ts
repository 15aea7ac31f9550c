// Tier 2: bashreadline sees the command typed into an interactive bash driven through a pty (script -qc), from
// the uretprobe on readline; a binary without readline is refused clearly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { tool } from "../../src/tools/bashreadline.js";
import { bashreadline } from "../../src/tools/index.js";
import { BPF } from "../../src/index.js";
import { hasTool } from "../helpers/build.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

function readlineReason(): string | false {
  if (!hasTool("script")) return "script (util-linux) is needed for a pty";
  try {
    return BPF.getUserFunctions("/bin/bash", "readline").length ? false : "/bin/bash has no readline symbol";
  } catch (e) {
    return `readline is not reachable: ${(e as Error).message}`;
  }
}
const skip = (await toolSkip()) || readlineReason();

function typeInto(lines: string): Promise<number> {
  const p = spawn("script", ["-qc", "bash --norc --noprofile -i", "/dev/null"], { stdio: ["pipe", "ignore", "ignore"] });
  p.stdin.end(lines);
  return new Promise((r) => p.on("exit", (c) => r(c ?? -1)));
}

test("bashreadline: a command typed into bash -i on a pty, BCC's columns", { skip }, async () => {
  const t = startTool(tool, []);
  assert.ok(await t.waitFor(/^TIME {6}PID {5}COMMAND\n/), t.err());
  await typeInto("echo tsbcc_typed_$((6*7))\nexit\n");
  const m = await t.waitFor(/^\d\d:\d\d:\d\d  (\d+) +echo tsbcc_typed_\$\(\(6\*7\)\)$/m);
  assert.equal(await t.stop(), 0);
  assert.ok(m, t.out());
  assert.match(t.out(), new RegExp(`^\\S+ +${m[1]} +exit$`, "m"), "the next line of the same shell");
});

test("bashreadline as a library; a binary without readline", { skip }, async () => {
  const stream = await bashreadline({ duration: 30 });
  const typed = typeInto("true tsbcc_lib_line\nexit\n");
  const seen = [];
  for await (const ev of stream) {
    seen.push(ev);
    if (ev.command === "true tsbcc_lib_line") stream.close();
  }
  await typed;
  assert.ok(seen.some((e) => e.command === "true tsbcc_lib_line" && e.comm === "bash" && e.pid > 0), JSON.stringify(seen));
  await assert.rejects(bashreadline({ binary: "/bin/true" }), /no readline function/);
});
