// Tier 2: tplist -l BIN / -p PID list a test binary's USDT probe (tsbcc:work, 2 arguments), with -v its location
// and arguments, --json as objects; a binary without probes lists nothing, a missing one is a usage error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/tplist.js";
import { usdtProbes } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { haveSdt } from "../helpers/usdt-targets.js";
import { startTool } from "../helpers/tool-run.js";
import { caller } from "../helpers/usertrace-targets.js";

const skip = !haveGcc ? "gcc is needed" : !haveSdt ? "sys/sdt.h (systemtap-sdt-dev) is needed" : false;

test("tplist -l BIN [-v]: the binary's USDT probe with its location and arguments", { skip }, async () => {
  const bin = caller();
  const t = startTool(tool, ["-l", bin]);
  assert.equal(await t.done, 0, t.err());
  assert.equal(t.out(), `${bin} tsbcc:work\n`);
  const v = startTool(tool, ["-v", "-l", bin, "tsbcc:*"]);
  assert.equal(await v.done, 0);
  assert.match(v.out(), new RegExp(`^${bin} tsbcc:work\\n  1 location\\(s\\), 2 argument\\(s\\)\\n  location 0x[0-9a-f]+\\n    argument #1 .*\\n    argument #2 .*\\n$`));
  const j = startTool(tool, ["--json", "-l", bin]);
  assert.equal(await j.done, 0);
  assert.deepEqual({ ...JSON.parse(j.out()), binary: undefined }, { binary: undefined, provider: "tsbcc", name: "work", locations: 1, arguments: 2 });
});

test("tplist -p PID lists the process's probes; filters; wrong input", { skip }, async () => {
  const child = pausedChild(caller(), ["1"]);
  try {
    const probes = usdtProbes({ pid: child.pid });
    assert.ok(probes.some((p) => p.provider === "tsbcc" && p.name === "work"), JSON.stringify(probes.map((p) => p.name)));
    assert.deepEqual(usdtProbes({ pid: child.pid, filter: "nomatch*" }), []);
    const t = startTool(tool, ["-p", String(child.pid), "work"]);
    assert.equal(await t.done, 0);
    assert.match(t.out(), /^\S+ tsbcc:work\n$/);
  } finally {
    await child.go();
  }
  assert.deepEqual(usdtProbes({ lib: "/bin/true" }), []);
  const bad = startTool(tool, ["-l", "/no/such/binary"]);
  assert.equal(await bad.done, 2);
  assert.throws(() => usdtProbes({}), /give pid or lib/);
});
