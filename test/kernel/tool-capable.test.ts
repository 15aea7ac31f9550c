// Tier 2: capable needs kprobes (there is no tracepoint for capability checks). Without them it must say so, with
// what it needs. With them it is tested in the VM guest (test/vm/guest/tool-capable.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
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

const noKprobesSkip = skip || (haveKprobes().supported && "this kernel has kprobes");

/** Runs capable with `argv`: exit 1, "needs kprobes" message, nothing on stdout. */
async function assertNeedsKprobes(argv: string[]): Promise<void> {
  const t = startTool(tool, argv);
  assert.equal(await t.done, 1);
  assert.match(t.err(), /^tsbcc capable: no usable event source on this kernel:\n {2}- kprobe: .*\ncapable needs kprobes \(CONFIG_KPROBES\): cap_capable\n/);
  assert.equal(t.out(), "");
}

/** Runs capable with `argv`: a usage error (exit 2) whose message matches `msg`. */
async function assertUsageError(argv: string[], msg: RegExp): Promise<void> {
  const bad = startTool(tool, argv);
  assert.equal(await bad.done, 2);
  assert.match(bad.err(), /^tsbcc capable: error: /m);
  assert.match(bad.err(), msg);
}

test("capable -K -U without kprobes: the same clear error (exit 1); wrong stack input is a usage error", { skip: noKprobesSkip }, async () => {
  await assertNeedsKprobes(["-K", "-U"]);
  await assertUsageError(["--kernel-stack=yes"], /argument -K\/--kernel-stack: ignored explicit argument 'yes'/);
  await assert.rejects(capable({ userStack: "yes" as unknown as boolean }), /userStack must be true or false/);
});

test("capable -x --unique without kprobes: the same clear error; wrong -x/--unique input is a usage error", { skip: noKprobesSkip }, async () => {
  await assertNeedsKprobes(["-x", "--unique"]);
  await assertUsageError(["--unique=1"], /argument --unique: ignored explicit argument '1'/);
  await assertUsageError(["-x3"], /unrecognized arguments: -3/);
  await assert.rejects(capable({ unique: 1 as unknown as boolean }), /unique must be true or false/);
  await assert.rejects(capable({ includeSelf: "no" as unknown as boolean }), /includeSelf must be true or false/);
});
