// Pure parts of the rewriter: nested edits with a source map, lexical scans, printk format checks, AST locations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EditConflictError, EditSet, LineIndex, SourceMap } from "../../src/dialect/edits.js";
import { blankCommentsAndStrings, findTracepointUses, splitTracepointName } from "../../src/dialect/prescan.js";
import { checkPrintkFormat } from "../../src/dialect/printk.js";
import { type AstNode, invocationEnd, normalizeLocations, stringLiteralValue } from "../../src/dialect/ast.js";
import { dialectMessage, parseClangOutput } from "../../src/dialect/diagnostics.js";

test("edits nest: an outer replacement embeds the rewritten inner range", () => {
  const text = "x = a->b->c;";
  const e = new EditSet(text);
  // inner: a->b (offsets 4..8), outer: a->b->c (4..11)
  e.replace(4, 11, (sub) => ["R(", sub(4, 11), ")"]);
  e.replace(4, 8, (sub) => ["r(", sub(4, 8), ")"]);
  e.insert(0, "/*i*/");
  const out = e.render();
  assert.equal(out.text, "/*i*/x = R(r(a->b)->c);");
  const map = new SourceMap(out.segments);
  assert.deepEqual(map.toUser(5), { user: 0, generated: false }); // "x"
  assert.deepEqual(map.toUser(out.text.indexOf("a->b")), { user: 4, generated: false });
  assert.equal(map.toUser(out.text.indexOf("R("))!.generated, true);
  assert.equal(map.toUser(out.text.indexOf("R("))!.user, 4);
});

test("edits keep line numbers: missing line breaks are appended, duplicated ones flattened", () => {
  const text = "f(a,\n  b);\nnext;";
  const e = new EditSet(text);
  e.replace(0, 9, (sub) => ["g(", sub(2, 3), ", ", sub(7, 8), ", sizeof(", sub(2, 8, true), "))"]);
  const out = e.render();
  assert.equal(out.text, "g(a, b, sizeof(a,   b))\n;\nnext;");
  assert.equal(new LineIndex(out.text).lineCount, new LineIndex(text).lineCount);
});

test("partially overlapping edits are a conflict", () => {
  const e = new EditSet("abcdefgh");
  e.replace(0, 4, () => ["x"]);
  e.replace(2, 6, () => ["y"]);
  assert.throws(() => e.render(), EditConflictError);
});

test("same-range edits nest in the order they were added", () => {
  const e = new EditSet("p->q");
  e.replace(0, 4, (sub) => ["A(", sub(0, 4), ")"]);
  e.replace(0, 4, (sub) => ["B(", sub(0, 4), ")"]);
  assert.equal(e.render().text, "A(B(p->q))");
});

test("line index: offsets, positions and line texts", () => {
  const li = new LineIndex("ab\ncd\r\nef");
  assert.deepEqual(li.position(4), { line: 2, col: 2 });
  assert.equal(li.offsetOf(3, 1), 7);
  assert.equal(li.lineText(2), "cd");
  assert.equal(li.lineCount, 3);
});

test("prescan finds tracepoints outside comments and strings", () => {
  const text = `// TRACEPOINT_PROBE(a, b)\nTRACEPOINT_PROBE(sched, sched_switch) { }\nchar *s = "struct tracepoint__x__y";\nint f(struct tracepoint__block__block_rq_issue *args);\nTRACEPOINT_PROBE(sched, sched_switch) {}`;
  const uses = findTracepointUses(blankCommentsAndStrings(text));
  assert.deepEqual(uses.map((u) => `${u.category}:${u.event}`), ["sched:sched_switch", "block:block_rq_issue"]);
  assert.equal(uses[0]!.offset, text.indexOf("TRACEPOINT_PROBE(sched"));
  assert.deepEqual(splitTracepointName("irq__softirq_entry"), { category: "irq", event: "softirq_entry" });
  assert.deepEqual(splitTracepointName("a__b__c"), { category: "a__b", event: "c" });
  assert.equal(blankCommentsAndStrings(`a /* x\ny */ "q\\"r" 'c'`), `a     \n     "    " ' '`);
});

test("macro invocation ends are found by matching parentheses", () => {
  const b = blankCommentsAndStrings(`x = EVENT_SIZE(f(a, (b)), ")") + 1; y = inet_sport;`);
  assert.equal(invocationEnd(b, 4), b.indexOf(" + 1"));
  assert.equal(invocationEnd(b, b.indexOf("inet_sport")), b.indexOf(";", b.indexOf("inet_sport")));
});

test("printk format checks", () => {
  assert.deepEqual(checkPrintkFormat("pid %d comm %s\n", 2), []);
  assert.deepEqual(checkPrintkFormat("%llu %lx %p %pS %pI4 100%%\n", 5).map((p) => p.severity), ["error", "warning"]);
  assert.deepEqual(checkPrintkFormat("%llu %lx %p\n", 3), []);
  assert.match(checkPrintkFormat("%f\n", 1)[0]!.message, /found %f/);
  assert.match(checkPrintkFormat("%s %s\n", 2)[0]!.message, /several %s/);
  assert.match(checkPrintkFormat("%d\n", 0)[0]!.message, /1 conversion but 0 arguments/);
  assert.equal(checkPrintkFormat("a\x01b", 0)[0]!.message, "bpf_trace_printk format contains non-printable characters");
});

test("string literal values decode C escapes", () => {
  assert.equal(stringLiteralValue(`"a\\n\\t\\x41\\101\\""`), 'a\n\tAA"');
  assert.equal(stringLiteralValue("nope"), undefined);
});

test("JSON AST locations: elided file and line are filled in print order", () => {
  const ast: AstNode = {
    id: "0", kind: "TranslationUnitDecl",
    inner: [
      { id: "1", kind: "VarDecl", loc: { offset: 10, file: "a.c", line: 2, col: 3, tokLen: 1 },
        range: { begin: { offset: 8, col: 1, tokLen: 3 }, end: { offset: 10, col: 3, tokLen: 1 } } },
      { id: "2", kind: "VarDecl", loc: { spellingLoc: { offset: 5, file: "h.h", line: 9, col: 1, tokLen: 2 }, expansionLoc: { offset: 20, file: "a.c", line: 3, col: 1, tokLen: 4 } },
        range: { begin: { offset: 22, col: 3, tokLen: 1 }, end: { offset: 22, col: 3, tokLen: 1 } } },
    ],
  };
  normalizeLocations(ast);
  const v1 = ast.inner![0]!;
  assert.equal(v1.range!.begin.file, "a.c");
  assert.equal(v1.range!.begin.line, 2);
  const v2 = ast.inner![1]!;
  assert.equal(v2.range!.begin.file, "a.c");
  assert.equal(v2.range!.begin.line, 3);
});

test("clang output parsing keeps notes with their diagnostic; map-struct messages are translated", () => {
  const raw = parseClangOutput([
    "In file included from <built-in>:1:",
    "/x/dialect.h:10:3: error: field has incomplete type 'struct key_t'",
    "/tmp/prog.c:2:1: note: expanded from here",
    "/tmp/prog.c:5:10: warning: unused variable 'x' [-Wunused-variable]",
    "2 errors generated.",
  ].join("\n"));
  assert.equal(raw.length, 2);
  assert.equal(raw[0]!.notes.length, 2);
  assert.equal(raw[0]!.notes[1]!.file, "/tmp/prog.c");
  assert.equal(raw[1]!.severity, "warning");
  assert.equal(dialectMessage("no member named 'foo' in 'struct __tsbcc_map_counts'"), "unknown map method foo on map counts");
  assert.match(dialectMessage("field has incomplete type 'struct key_t'"), /^unknown type struct key_t/);
});
