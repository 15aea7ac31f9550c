// Tier 2: cachestat needs fentry or kprobes (no tracepoint marks a page cache hit). On this kernel without them it
// must say so, naming the functions it counts; BCC's hit/miss arithmetic is checked on known call counts. With
// kprobes/fentry it is tested in the VM guest (test/vm/guest/tool-vfs.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/cachestat.js";
import { cachestat, cacheStatsOf, NoEventSourceError, UsageError } from "../../src/tools/index.js";
import { haveFentry, haveKprobes } from "../../src/index.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const haveFn = haveKprobes().supported || haveFentry().supported;

test("cachestat without kprobes and fentry: 'no event source', naming the page cache functions it needs", { skip: skip || (haveFn && "this kernel has kprobes or fentry") }, async () => {
  await assert.rejects(cachestat(), (e: unknown) => {
    assert.ok(e instanceof NoEventSourceError);
    assert.equal(e.code, "UNSUPPORTED");
    assert.match(e.message, /^cachestat: no usable event source on this kernel:\n  - fentry: .*\n  - kprobe: /);
    assert.match(e.message, /kprobes \(CONFIG_KPROBES\): folio_mark_accessed\|mark_page_accessed, mark_buffer_dirty, filemap_add_folio\|add_to_page_cache_lru/);
    return true;
  });
  const t = startTool(tool, ["1", "1"]);
  assert.equal(await t.done, 1);
  assert.match(t.err(), /^tsbcc cachestat: no usable event source/);
  assert.equal(t.out(), "");
  await assert.rejects(cachestat({ interval: -2 }), UsageError);
});

test("cachestat's arithmetic: hits = accesses - buffer dirties - misses, misses = additions - dirtied pages", () => {
  assert.deepEqual(cacheStatsOf(1000, 100, 300, 50), { hits: 650, misses: 250, dirties: 100, ratio: 650 / 900 });
  assert.deepEqual(cacheStatsOf(10, 0, 40, 0), { hits: 0, misses: 10, dirties: 0, ratio: 0 });
  assert.deepEqual(cacheStatsOf(0, 5, 0, 0), { hits: 0, misses: 0, dirties: 5, ratio: 0 });
});
