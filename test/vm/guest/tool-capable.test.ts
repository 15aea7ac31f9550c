// Runs inside the VM guest (see docs/VM.md), whose kernel has kprobes: capable attaches to cap_capable (looked up
// in the running kernel) and reports a real denied check: nobody may not chown a file to root (CAP_CHOWN).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { capable } from "../../../src/tools/capable.js";
import { haveKprobes } from "../../../src/kernel/features.js";

test("capable: an unprivileged chown is a denied CAP_CHOWN check by that process", { skip: !haveKprobes().supported && `no kprobes: ${haveKprobes().reason}` }, async () => {
  const stream = await capable({ duration: 30 });
  assert.equal(stream.source.kind, "kprobe");
  assert.match(stream.source.targets[0], /^cap_capable/);
  const file = "/tmp/tsbcc-capable-target";
  writeFileSync(file, "x");
  const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "chown", "0", file], { encoding: "utf8" });
  assert.notEqual(r.status, 0, "chown to root as nobody must fail");
  let found;
  for await (const ev of stream) {
    if (ev.comm === "chown" && ev.capName === "CAP_CHOWN") {
      found = ev;
      break;
    }
  }
  assert.ok(found, "the CAP_CHOWN check was reported");
  assert.equal(found.uid, 65534);
  assert.notEqual(found.verdict, 0, "denied");
  assert.equal(found.audit, true);
});
