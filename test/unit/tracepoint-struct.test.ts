import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTracepointFormat, tracepointStruct, widenedType } from "../../src/dialect/tracepoint-struct.js";

// dist/test/unit -> repository root
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures", "tracepoints");
const fixture = (name: string) => readFileSync(join(FIXTURES, `${name}.format`), "utf8");
const struct = (cat: string, evt: string, opts = {}) =>
  tracepointStruct(cat, evt, { formatText: fixture(`${cat}_${evt}`), useKernelBtf: false, ...opts });

test("parses every field line of sched_process_exec", () => {
  const fields = parseTracepointFormat(fixture("sched_sched_process_exec"));
  assert.deepEqual(fields, [
    { type: "unsigned short", name: "common_type", offset: 0, size: 2, signed: false, isDataLoc: false, arrayDim: null, isCommon: true },
    { type: "unsigned char", name: "common_flags", offset: 2, size: 1, signed: false, isDataLoc: false, arrayDim: null, isCommon: true },
    { type: "unsigned char", name: "common_preempt_count", offset: 3, size: 1, signed: false, isDataLoc: false, arrayDim: null, isCommon: true },
    { type: "int", name: "common_pid", offset: 4, size: 4, signed: true, isDataLoc: false, arrayDim: null, isCommon: true },
    { type: "__data_loc char[]", name: "filename", offset: 8, size: 4, signed: false, isDataLoc: true, arrayDim: null, isCommon: false },
    { type: "pid_t", name: "pid", offset: 12, size: 4, signed: true, isDataLoc: false, arrayDim: null, isCommon: false },
    { type: "pid_t", name: "old_pid", offset: 16, size: 4, signed: true, isDataLoc: false, arrayDim: null, isCommon: false },
  ]);
});

test("parses arrays, pointers and flexible arrays", () => {
  const sw = parseTracepointFormat(fixture("sched_sched_switch"));
  assert.deepEqual(
    sw.filter((f) => !f.isCommon).map((f) => [f.type, f.name, f.arrayDim, f.offset, f.size, f.signed]),
    [
      ["char", "prev_comm", "16", 8, 16, false],
      ["pid_t", "prev_pid", null, 24, 4, true],
      ["int", "prev_prio", null, 28, 4, true],
      ["long", "prev_state", null, 32, 8, true],
      ["char", "next_comm", "16", 40, 16, false],
      ["pid_t", "next_pid", null, 56, 4, true],
      ["int", "next_prio", null, 60, 4, true],
    ],
  );
  const open = parseTracepointFormat(fixture("syscalls_sys_enter_openat"));
  assert.deepEqual(open.find((f) => f.name === "filename"), {
    type: "const char *", name: "filename", offset: 24, size: 8, signed: false, isDataLoc: false, arrayDim: null, isCommon: false,
  });
  const fn = parseTracepointFormat(fixture("ftrace_function"));
  assert.deepEqual(fn.at(-1), {
    type: "unsigned long", name: "args", offset: 24, size: 0, signed: false, isDataLoc: false, arrayDim: "", isCommon: false,
  });
});

test("parser ignores header lines, print fmt and malformed lines", () => {
  const text = [
    "name: x", "ID: 7", "format:", "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;", "",
    "\tfield:nonsense", "\tfield:int;\toffset:8;\tsize:4;\tsigned:1;", "\tfield:char buf [TASK_COMM_LEN + 1];\toffset:8;\tsize:17;\tsigned:0;",
    "\tfield:char *p;\toffset:32;\tsize:8;\tsigned:0;", 'print fmt: "field:int y; offset:1; size:1;"',
  ].join("\n");
  const fields = parseTracepointFormat(text);
  assert.deepEqual(fields.map((f) => [f.type, f.name, f.arrayDim]), [
    ["int", "common_pid", null],
    ["char", "buf", "TASK_COMM_LEN + 1"],
    ["char *", "p", null],
  ]);
});

test("sched_process_exec: __data_loc becomes int data_loc_<name> (bcc-spec 2d example)", () => {
  assert.equal(
    struct("sched", "sched_process_exec"),
    "struct tracepoint__sched__sched_process_exec {\n\tu64 __do_not_use__;\n\tint data_loc_filename;\n\tpid_t pid;\n\tpid_t old_pid;\n};\n",
  );
});

test("sched_switch keeps array and scalar types verbatim", () => {
  assert.equal(
    struct("sched", "sched_switch"),
    [
      "struct tracepoint__sched__sched_switch {", "\tu64 __do_not_use__;", "\tchar prev_comm[16];", "\tpid_t prev_pid;",
      "\tint prev_prio;", "\tlong prev_state;", "\tchar next_comm[16];", "\tpid_t next_pid;", "\tint next_prio;", "};", "",
    ].join("\n"),
  );
});

test("sys_enter_openat: holes become __pad_<offset> bytes and 8-byte ints are widened", () => {
  assert.equal(
    struct("syscalls", "sys_enter_openat"),
    [
      "struct tracepoint__syscalls__sys_enter_openat {", "\tu64 __do_not_use__;", "\tint __syscall_nr;",
      "\tchar __pad_12;", "\tchar __pad_13;", "\tchar __pad_14;", "\tchar __pad_15;",
      "\ts64 dfd;", "\tconst char * filename;", "\ts64 flags;", "\tumode_t mode;", "};", "",
    ].join("\n"),
  );
  assert.match(struct("syscalls", "sys_enter_mknodat"), /\tumode_t mode;\n\tu64 dev;\n/);
});

test("block_rq_issue: padding after a 4-byte dev_t, char arrays and a trailing __data_loc", () => {
  assert.equal(
    struct("block", "block_rq_issue"),
    [
      "struct tracepoint__block__block_rq_issue {", "\tu64 __do_not_use__;", "\tdev_t dev;",
      "\tchar __pad_12;", "\tchar __pad_13;", "\tchar __pad_14;", "\tchar __pad_15;",
      "\tsector_t sector;", "\tunsigned int nr_sector;", "\tunsigned int bytes;", "\tunsigned short ioprio;",
      "\tchar rwbs[10];", "\tchar comm[16];", "\tint data_loc_cmd;", "};", "",
    ].join("\n"),
  );
});

test("raw_syscalls:sys_enter and ftrace:function keep fixed and flexible arrays", () => {
  assert.equal(
    struct("raw_syscalls", "sys_enter"),
    "struct tracepoint__raw_syscalls__sys_enter {\n\tu64 __do_not_use__;\n\tlong id;\n\tunsigned long args[6];\n};\n",
  );
  assert.match(struct("ftrace", "function"), /\tunsigned long parent_ip;\n\tunsigned long args\[\];\n};\n$/);
});

test("common fields longer than 8 bytes add one __do_not_use__<N> per extra byte", () => {
  const text = [
    "format:",
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;",
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;",
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;",
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;",
    "\tfield:unsigned short common_migrate_disable;\toffset:8;\tsize:2;\tsigned:0;",
    "\tfield:unsigned char common_preempt_lazy_count;\toffset:10;\tsize:1;\tsigned:0;",
    "",
    "\tfield:int x;\toffset:12;\tsize:4;\tsigned:1;",
  ].join("\n");
  assert.equal(
    tracepointStruct("c", "e", { formatText: text }),
    [
      "struct tracepoint__c__e {", "\tu64 __do_not_use__;", "\tchar __do_not_use__8;", "\tchar __do_not_use__9;",
      "\tchar __do_not_use__10;", "\tchar __pad_11;", "\tint x;", "};", "",
    ].join("\n"),
  );
});

test("non-numeric array dimensions are resolved: callback first, then well-known macros", () => {
  const text = [
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;",
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;",
    "\tfield:char comm[TASK_COMM_LEN];\toffset:8;\tsize:16;\tsigned:0;",
    "\tfield:u8 buf[MY_LEN * 2];\toffset:24;\tsize:8;\tsigned:0;",
    "\tfield:u8 other[UNKNOWN_LEN];\toffset:32;\tsize:4;\tsigned:0;",
  ].join("\n");
  const seen: string[] = [];
  const out = tracepointStruct("sched", "x", {
    formatText: text,
    useKernelBtf: false,
    resolveConstant: (n) => (seen.push(n), n === "MY_LEN" ? 4n : undefined),
  });
  assert.match(out, /\tchar comm\[16\];\n\tu8 buf\[4 \* 2\];\n\tu8 other\[UNKNOWN_LEN\];\n/);
  assert.deepEqual(seen, ["TASK_COMM_LEN", "MY_LEN", "UNKNOWN_LEN"]);
  const viaCallback = tracepointStruct("sched", "x", { formatText: text, resolveConstant: (n) => (n === "TASK_COMM_LEN" ? 32 : undefined) });
  assert.match(viaCallback, /char comm\[32\];/);
});

test("type widening follows the declared size exactly", () => {
  const cases: [string, number, string][] = [
    ["char", 2, "s16"], ["int8_t", 2, "s16"], ["unsigned char", 2, "u16"], ["uint8_t", 2, "u16"], ["short", 2, "short"],
    ["char", 4, "s32"], ["short", 4, "s32"], ["int16_t", 4, "s32"], ["unsigned short", 4, "u32"], ["uint16_t", 4, "u32"], ["int", 4, "int"],
    ["int", 8, "s64"], ["pid_t", 8, "s64"], ["int32_t", 8, "s64"], ["unsigned int", 8, "u64"], ["unsigned", 8, "u64"],
    ["u32", 8, "u64"], ["uid_t", 8, "u64"], ["gid_t", 8, "u64"], ["umode_t", 8, "umode_t"], ["long", 8, "long"], ["char", 1, "char"],
    // qualifiers do not hide a type from the table (landlock syscalls: `const int ruleset_fd; size:8`)
    ["const int", 8, "s64"], ["const __u32", 8, "const __u32"], ["volatile unsigned int", 8, "u64"],
  ];
  for (const [type, size, want] of cases) assert.equal(widenedType(type, size), want, `${type} size ${size}`);
});

test("every fixture gives a member for each non-common field, in order, named as BCC names it", () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".format"));
  assert.ok(files.length >= 25, `only ${files.length} fixtures`);
  for (const file of files) {
    const text = readFileSync(join(FIXTURES, file), "utf8");
    const out = tracepointStruct("c", "e", { formatText: text });
    const members = [...out.matchAll(/^\t(.*?)\s*([A-Za-z_]\w*)(\[[^\]]*\])?;$/gm)].map((m) => m[2]!);
    const want = parseTracepointFormat(text)
      .filter((f) => !f.isCommon)
      .map((f) => (f.isDataLoc ? `data_loc_${f.name}` : f.name));
    assert.deepEqual(members.filter((m) => !m.startsWith("__do_not_use__") && !m.startsWith("__pad_")), want, file);
    assert.ok(out.startsWith("struct tracepoint__c__e {\n\tu64 __do_not_use__;\n"), file);
  }
});

test("invalid names are refused before touching the file system", () => {
  assert.throws(() => tracepointStruct("../etc", "passwd", {}), /invalid tracepoint category/);
  assert.throws(() => tracepointStruct("sched", "a/b", {}), /invalid tracepoint event/);
});
