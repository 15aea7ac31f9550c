// Tier 1: USDT argument specs (every x86-64 operand form and the malformed ones), the generated C readers,
// the uprobe PMU format parser, the linker cache reader and "did you mean" names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describeUsdtArg, parseUsdtArg, parseUsdtArgs, splitUsdtArgs } from "../../src/usdt/args.js";
import { usdtPrelude } from "../../src/dialect/usdt.js";
import { parsePmuFormat } from "../../src/link/uprobe.js";
import { LD_SO_CACHE, parseLdCache } from "../../src/symbols/libraries.js";
import { closeNames } from "../../src/symbols/resolve.js";
import { ErrorCode, TsbccError } from "../../src/errors.js";

test("register operands: 64/32/16/8-bit names map to pt_regs fields, high bytes shift", () => {
  const cases: [string, string, number, number][] = [
    ["8@%rax", "ax", 0, 8], ["-4@%esi", "si", 0, 4], ["2@%di", "di", 0, 2], ["-1@%al", "ax", 0, 1], ["1@%ah", "ax", 8, 1],
    ["1@%dh", "dx", 8, 1], ["1@%sil", "si", 0, 1], ["1@%bpl", "bp", 0, 1], ["8@%r15", "r15", 0, 8], ["-4@%r9d", "r9", 0, 4],
    ["2@%r10w", "r10", 0, 2], ["1@%r11b", "r11", 0, 1], ["8@%rsp", "sp", 0, 8], ["4@%ebp", "bp", 0, 4],
  ];
  for (const [spec, field, shift, width] of cases) {
    const a = parseUsdtArg(spec);
    assert.equal(a.location.kind, "reg", spec);
    assert.deepEqual(a.location.kind === "reg" && a.location.reg, { field, shift, width }, spec);
  }
  assert.equal(parseUsdtArg("-4@%esi").signed, true);
  assert.equal(parseUsdtArg("4@%esi").signed, false);
  assert.equal(parseUsdtArg("-4@%esi").size, 4);
});

test("immediates, memory and globals", () => {
  assert.deepEqual(parseUsdtArg("-4@$-42").location, { kind: "const", value: -42n });
  assert.deepEqual(parseUsdtArg("8@$0x1234").location, { kind: "const", value: 0x1234n });
  const m = parseUsdtArg("8@-24(%rbp)").location;
  assert.equal(m.kind, "mem");
  assert.ok(m.kind === "mem" && m.base?.field === "bp" && m.offset === -24n && m.index === undefined && m.scale === 1);
  const idx = parseUsdtArg("-8@8(%rbx,%rcx,8)").location;
  assert.ok(idx.kind === "mem" && idx.base?.field === "bx" && idx.index?.field === "cx" && idx.scale === 8 && idx.offset === 8n);
  const noBase = parseUsdtArg("4@(,%rdx,4)").location;
  assert.ok(noBase.kind === "mem" && noBase.base === undefined && noBase.index?.field === "dx" && noBase.scale === 4);
  assert.deepEqual(parseUsdtArg("8@(%rdi)").location, { kind: "mem", base: { field: "di", shift: 0, width: 8 }, index: undefined, scale: 1, offset: 0n });
  assert.deepEqual(parseUsdtArg("8@tsbcc_mem+16(%rip)").location, { kind: "global", symbol: "tsbcc_mem", offset: 16n });
  assert.deepEqual(parseUsdtArg("-4@counter(%rip)").location, { kind: "global", symbol: "counter", offset: 0n });
  assert.deepEqual(parseUsdtArg("4@buf-8(%rip)").location, { kind: "global", symbol: "buf", offset: -8n });
  assert.deepEqual(parseUsdtArg("4@global_var").location, { kind: "global", symbol: "global_var", offset: 0n });
  assert.equal(parseUsdtArg("%rdi").size, 8, "old notes without a size: 8 bytes");
});

test("argument strings split on spaces outside parentheses", () => {
  assert.deepEqual(splitUsdtArgs(" -4@%esi  8@(%rax, %rbx, 8) 8@$1 "), ["-4@%esi", "8@(%rax,%rbx,8)", "8@$1"]);
  assert.equal(parseUsdtArgs("").length, 0);
  assert.equal(parseUsdtArgs("-4@%esi 8@%rdi").length, 2);
});

test("malformed specs are BAD_ELF errors naming the spec", () => {
  for (const bad of ["3@%rax", "8@%xyz", "8@$abc", "8@8(%rax", "8@8(%rax,%rbx,3)", "8@8(%rip,%rax,1)", "8@16(%rip)", "8@%rip",
    "x@%rax", "8@", "8@sym(%rax)", "8@8(%eax)"]) {
    assert.throws(() => parseUsdtArg(bad), (e: unknown) => e instanceof TsbccError && e.code === ErrorCode.BAD_ELF && e.message.includes(bad), bad);
  }
});

test("descriptions read like BCC's", () => {
  assert.equal(describeUsdtArg(parseUsdtArg("-4@-8(%rbp)")), "4 signed bytes @ *(bp - 8)");
  assert.equal(describeUsdtArg(parseUsdtArg("8@%rdi")), "8 unsigned bytes @ di");
  assert.equal(describeUsdtArg(parseUsdtArg("4@$7")), "4 unsigned bytes @ constant 7");
});

test("the prelude switches on the cookie and narrows each argument to its size and sign", () => {
  const c = usdtPrelude([
    { cookie: 1, address: 0x1130n, label: "p:a", args: parseUsdtArgs("-4@%esi 1@%ah 8@-8(%rbp,%rcx,4)") },
    { cookie: 2, address: 0x1200n, label: "p:a", args: parseUsdtArgs("-2@$-3 8@g+8(%rip)").map((a) => {
      if (a.location.kind === "global") a.location.address = 0x4010n;
      return a;
    }) },
  ]);
  assert.match(c, /switch \(bpf_get_attach_cookie\(ctx\)\)/);
  assert.match(c, /case 1: .*\n\s+switch \(n\) \{\n\s+case 1: .*__v = ctx->si; __v = \(u64\)\(__s32\)__v;/);
  assert.match(c, /__v = \(ctx->ax >> 8\); __v = \(u64\)\(__u8\)__v;/);
  assert.match(c, /u64 __a = ctx->bp \+ ctx->cx \* 4 \+ \(u64\)0xfffffffffffffff8ULL;/);
  assert.match(c, /__v = 0xfffffffffffffffdULL; __v = \(u64\)\(__s16\)__v;/);
  assert.match(c, /u64 __a = ctx->ip - 0x1200ULL \+ 0x4010ULL;/);
  assert.match(c, /#define bpf_usdt_readarg\(n, ctx, dst\)/);
  assert.match(c, /#define bpf_usdt_readarg_p\(n, ctx, buf, len\)/);
  assert.doesNotMatch(usdtPrelude([]), /case 1: \/\*/, "no probe location, no argument reader");
});

test("uprobe PMU format lines", () => {
  assert.deepEqual(parsePmuFormat("config:0\n"), { shift: 0, bits: 1 });
  assert.deepEqual(parsePmuFormat("config:32-63"), { shift: 32, bits: 32 });
  assert.equal(parsePmuFormat("config1:0-63"), undefined);
  assert.equal(parsePmuFormat("config:9-3"), undefined);
});

test("linker cache: a synthetic new-format cache, and this machine's cache agrees with ldconfig -p", (t) => {
  // Header: magic "glibc-ld.so.cache" + "1.1", nlibs, len_strings, flags, pad, extension offset, 3 unused.
  const strings = "libfoo.so.1\0/usr/lib/libfoo.so.1\0";
  const bytes = new Uint8Array(48 + 24 + strings.length);
  const v = new DataView(bytes.buffer);
  bytes.set(Buffer.from("glibc-ld.so.cache1.1"), 0);
  v.setUint32(20, 1, true);
  v.setUint32(24, strings.length, true);
  v.setInt32(48, 0x0303, true);
  v.setUint32(52, 72, true);
  v.setUint32(56, 72 + 12, true);
  bytes.set(Buffer.from(strings, "latin1"), 72);
  assert.deepEqual(parseLdCache(bytes), [{ flags: 0x0303, name: "libfoo.so.1", path: "/usr/lib/libfoo.so.1" }]);
  assert.throws(() => parseLdCache(new Uint8Array(10)), (e: unknown) => e instanceof TsbccError && e.code === ErrorCode.BAD_ELF);
  if (!existsSync(LD_SO_CACHE)) return t.skip("no /etc/ld.so.cache here");
  let ldconfig: string;
  try {
    ldconfig = execFileSync("ldconfig", ["-p"], { encoding: "utf8" });
  } catch {
    return t.skip("ldconfig is not available");
  }
  const ours = parseLdCache(new Uint8Array(readFileSync(LD_SO_CACHE)));
  const theirs = ldconfig.split("\n").flatMap((l) => {
    const m = /^\s+(\S+) \(.*\) => (\S+)$/.exec(l);
    return m ? [`${m[1]} ${m[2]}`] : [];
  });
  assert.deepEqual(ours.map((e) => `${e.name} ${e.path}`), theirs);
});

test("close names for \"did you mean\"", () => {
  assert.deepEqual(closeNames("mallc", ["malloc", "calloc", "free", "mallinfo"]).slice(0, 1), ["malloc"]);
  assert.deepEqual(closeNames("zzzzzz", ["malloc", "free"]), []);
});
