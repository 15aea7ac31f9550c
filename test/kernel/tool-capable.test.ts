// Tier 2: capable needs kprobes (there is no tracepoint for capability checks). Without them it must say so,
// with what it needs; with them (the VM guest kernel) it shows a real denied check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { tool } from "../../src/tools/capable.js";
import { capable, NoEventSourceError } from "../../src/tools/index.js";
import { haveKprobes } from "../../src/index.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

test("capable without kprobes: a clear 'no event source' error naming cap_capable and CONFIG_KPROBES", { skip: skip || (haveKprobes().supported && "this kernel has kprobes") }, async () => {
  await assert.rejects(capable(), (e: unknown) => {
    assert.ok(e instanceof NoEventSourceError);
    assert.equal(e.code, "UNSUPPORTED");
    assert.match(e.message, /^capable: no usable event source on this kernel:\n  - kprobe: /);
    assert.match(e.message, /capable needs kprobes \(CONFIG_KPROBES\): cap_capable/);
    return true;
  });
  const t = startTool(tool, []);
  assert.equal(await t.done, 1);
  assert.match(t.err(), /^tsbcc capable: no usable event source/);
  assert.equal(t.out(), "");
});

test("capable with kprobes: an unprivileged chown is a denied CAP_CHOWN check", { skip: skip || (!haveKprobes().supported && `no kprobes: ${haveKprobes().reason}`) }, async () => {
  const stream = await capable({ duration: 10 });
  // nobody (65534) may not chown a file to root: the kernel checks CAP_CHOWN and denies it.
  spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "chown", "0", "/tmp"], { stdio: "ignore" });
  let found;
  for await (const ev of stream) {
    if (ev.comm === "chown" && ev.capName === "CAP_CHOWN") {
      found = ev;
      break;
    }
  }
  assert.ok(found);
  assert.equal(found.uid, 65534);
  assert.notEqual(found.verdict, 0);
});
