// Tier 2: stackcount -v prints each frame's raw address (BCC's "%-16x" before the symbol): on a uprobe of the test
// binary's tsbcc_work, with -s offsets, every address of the binary's frames is its `nm` value plus the printed
// offset plus one page-aligned load base; the library gives the same addresses in StackCount.userAddresses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/stackcount.js";
import { stackcount } from "../../src/tools/index.js";
import { haveGcc } from "../helpers/build.js";
import { pausedChild } from "../helpers/child.js";
import { nmFunctions as nm } from "../helpers/nm.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";
import { caller } from "../helpers/usertrace-targets.js";

const skip = (await toolSkip()) || (!haveGcc && "gcc is needed");
const N = 7;

test("stackcount -v -s -P -p PID BIN:tsbcc_work: addresses = load base + nm + offset", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const t = startTool(tool, ["-v", "-s", "-P", "-p", String(child.pid), `${caller()}:tsbcc_work`]);
  assert.ok(await t.waitFor(/Hit Ctrl-C to end\.\n/), t.err());
  assert.equal(await child.go(), 0);
  assert.equal(await t.stop(), 0, t.err());
  const out = t.out();
  const frames = [...out.matchAll(/^ {2}([0-9a-f]+) +(\S+)\+0x([0-9a-f]+)$/gm)].map((m) => ({ addr: BigInt(`0x${m[1]}`), sym: m[2]!, off: BigInt(`0x${m[3]}`), line: m[0] }));
  assert.deepEqual(frames.slice(0, 3).map((f) => f.sym), ["tsbcc_work", "tsbcc_driver", "main"], out);
  for (const f of frames) assert.match(f.line, /^ {2}[0-9a-f]{12,16} {1,5}\S/, "address left-aligned in 16 columns");
  const syms = nm(caller());
  const bases = frames.slice(0, 3).map((f) => f.addr - syms.get(f.sym)! - f.off);
  assert.equal(new Set(bases).size, 1, out);
  assert.equal(bases[0]! % 4096n, 0n, out);
  assert.match(out, new RegExp(`\\n    tsbcccall \\[${child.pid}\\]\\n    ${N}\\n`));
});

test("stackcount as a library with addresses: one per frame, the first = load base + nm(tsbcc_work)", { skip }, async () => {
  const child = pausedChild(caller(), [String(N)]);
  const stream = await stackcount({ pattern: `${caller()}:tsbcc_work`, pid: child.pid, perPid: true, addresses: true });
  await child.go();
  stream.close();
  const all = [];
  for await (const s of stream) all.push(...s);
  assert.equal(all.length, 1, JSON.stringify(all, (_k, v) => (typeof v === "bigint" ? v.toString(16) : v)));
  const s = all[0]!;
  assert.equal(s.value, N);
  assert.equal(s.userAddresses!.length, s.user.length);
  assert.equal((s.userAddresses![0]! - nm(caller()).get("tsbcc_work")!) % 4096n, 0n);
  const noAddr = startTool(tool, ["-v", "-U", "-K", `${caller()}:tsbcc_work`]);
  assert.equal(await noAddr.done, 2);
});
