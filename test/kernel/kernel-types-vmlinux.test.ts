// Tier 2: our printer on the running kernel's BTF: the header compiles, and clang's sizes and offsets
// equal the BTF's for every struct and union (bitfields included); bpftool's header, when bpftool is
// installed, is compared on the same checks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Btf } from "../../src/btf/btf.js";
import { printCHeaderWithNames } from "../../src/btf/c-printer.js";
import { findMember, type CompositeType } from "../../src/btf/types.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const BPFTOOL = ["/usr/sbin/bpftool", "/usr/bin/bpftool"].find((p) => existsSync(p));

// Structs BCC tools read, with members they read.
const IMPORTANT: [string, string[]][] = [
  ["task_struct", ["pid", "tgid", "comm", "real_parent", "mm", "flags", "cred", "nsproxy", "fs", "files", "signal"]],
  ["file", ["f_inode", "f_path", "f_flags", "f_mode", "f_pos"]], ["dentry", ["d_name", "d_parent", "d_inode", "d_sb"]],
  ["inode", ["i_ino", "i_mode", "i_sb", "i_size", "i_rdev"]], ["sock", ["__sk_common", "sk_protocol", "sk_type"]],
  ["sock_common", ["skc_family", "skc_daddr", "skc_rcv_saddr", "skc_dport", "skc_num", "skc_state", "skc_v6_daddr"]],
  ["sk_buff", ["len", "data", "head", "dev", "protocol", "network_header", "transport_header"]],
  ["request", ["cmd_flags", "__data_len", "__sector", "q", "part", "start_time_ns"]], ["mm_struct", ["mmap_base", "pgd"]],
  ["vm_area_struct", ["vm_start", "vm_end", "vm_mm", "vm_file"]], ["super_block", ["s_dev", "s_type", "s_id"]],
  ["path", ["mnt", "dentry"]], ["qstr", ["name", "len"]], ["pt_regs", ["ip", "di", "si", "dx", "ax", "sp"]],
  ["net_device", ["name", "ifindex", "mtu"]], ["tcp_sock", ["snd_cwnd", "srtt_us", "rcv_nxt", "snd_nxt"]],
  ["inet_sock", ["sk", "inet_sport", "inet_saddr"]], ["bio", ["bi_iter", "bi_opf", "bi_bdev"]], ["block_device", ["bd_dev", "bd_disk"]],
  ["gendisk", ["major", "first_minor", "disk_name"]], ["cred", ["uid", "gid", "euid"]], ["nsproxy", ["pid_ns_for_children", "net_ns", "uts_ns"]],
  ["pid_namespace", ["level", "ns"]], ["uts_namespace", ["name"]], ["cgroup", ["kn", "level"]], ["kernfs_node", ["name", "id"]],
  ["files_struct", ["fdt"]], ["fdtable", ["fd", "max_fds"]], ["linux_binprm", ["filename", "file", "argc"]],
  ["bpf_map", ["map_type", "key_size", "value_size", "max_entries"]], ["mount", ["mnt", "mnt_mountpoint", "mnt_parent"]],
  ["signal_struct", ["nr_threads"]], ["rq", ["nr_running", "clock"]], ["sched_entity", ["vruntime", "sum_exec_runtime"]],
];

function skipReason(): string | undefined {
  if (!existsSync(VMLINUX)) return "kernel has no BTF";
  if (spawnSync("clang", ["--version"]).status !== 0) return "clang not installed";
  return undefined;
}

function clang(header: string, body: string, extra: string[] = []): { ok: boolean; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-vml-"));
  try {
    writeFileSync(join(dir, "vmlinux.h"), header);
    writeFileSync(join(dir, "x.c"), `#include "vmlinux.h"\n${body}\n`);
    const r = spawnSync("clang", ["-target", "bpf", "-fsyntax-only", "-ferror-limit=0", ...extra, join(dir, "x.c")],
      { encoding: "utf8", maxBuffer: 1 << 30 });
    return { ok: r.status === 0, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let printed: { btf: Btf; text: string; names: Map<number, string>; ms: number } | undefined;
function print() {
  if (!printed) {
    const btf = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
    // CPU time, not wall-clock: the printing is synchronous work on this thread, and on a loaded machine the wall
    // clock also counts the time other processes had the CPU.
    const started = process.cpuUsage();
    const { text, names } = printCHeaderWithNames(btf);
    const used = process.cpuUsage(started);
    printed = { btf, text, names, ms: (used.user + used.system) / 1000 };
  }
  return printed;
}

test("the printed vmlinux.h compiles without warnings and is generated quickly", (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const { text, ms } = print();
  t.diagnostic(`printed ${(text.length / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms of CPU`);
  assert.ok(ms < 3000, `printing took ${ms} ms of CPU`);
  const r = clang(text, "", ["-Werror"]);
  assert.ok(r.ok, r.out.slice(0, 3000));
});

test("important kernel structs: size and member offsets equal the BTF's", (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const { btf, text } = print();
  const asserts: string[] = [];
  let checked = 0;
  for (const [name, members] of IMPORTANT) {
    const s = btf.findByName("struct", name) as CompositeType | undefined;
    if (!s) continue; // e.g. struct request on a kernel without the block layer
    checked++;
    asserts.push(`_Static_assert(sizeof(struct ${name}) == ${s.size}, "sizeof ${name}");`);
    for (const m of members) {
      const mem = findMember(btf, s.id, m);
      if (!mem || mem.bitfieldSize) continue;
      asserts.push(`_Static_assert(__builtin_offsetof(struct ${name}, ${m}) == ${mem.bitOffset / 8}, "${name}.${m}");`);
    }
  }
  assert.ok(checked >= 30, `only ${checked} of the important structs exist`);
  const r = clang(text, asserts.join("\n"));
  assert.ok(r.ok, r.out.slice(0, 3000));
  t.diagnostic(`${checked} structs, ${asserts.length} assertions`);
});

/** Size and direct-member offset assertions for every named struct/union, under the printed names. */
function allAssertions(btf: Btf, names: Map<number, string> | undefined): { asserts: string[]; structs: number } {
  const asserts: string[] = [];
  const seen = new Set<string>();
  let structs = 0;
  for (const id of btf.ids()) {
    const k = btf.kindName(id);
    if (k !== "struct" && k !== "union") continue;
    const raw = btf.nameOf(id);
    if (!raw) continue;
    const name = names ? names.get(id)! : raw;
    if (!names && seen.has(raw)) continue; // another header may name duplicates differently: check the first only
    seen.add(raw);
    const ty = btf.type(id) as CompositeType;
    structs++;
    asserts.push(`_Static_assert(sizeof(${k} ${name}) == ${ty.size}, "size ${name}");`);
    for (const m of ty.members) {
      if (!m.name || m.bitfieldSize || !/^\w+$/.test(m.name)) continue;
      asserts.push(`_Static_assert(__builtin_offsetof(${k} ${name}, ${m.name}) == ${m.bitOffset / 8}, "${name}.${m.name}");`);
    }
  }
  return { asserts, structs };
}

test("every struct and union: sizes and member offsets equal the BTF's", (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const { btf, text, names } = print();
  const { asserts, structs } = allAssertions(btf, names);
  const r = clang(text, asserts.join("\n"));
  const failed = [...r.out.matchAll(/static_assert failed .*?"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(failed, []);
  assert.ok(r.ok, r.out.slice(0, 3000));
  t.diagnostic(`${structs} structs/unions, ${asserts.length} assertions`);
});

test("bitfield members land on the BTF bit offsets (clang record layouts)", (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  const { btf, text, names } = print();
  const want = new Map<string, Map<string, number>>();
  const uses: string[] = [];
  for (const id of btf.ids()) {
    const k = btf.kindName(id);
    if ((k !== "struct" && k !== "union") || !btf.nameOf(id)) continue;
    const ty = btf.type(id) as CompositeType;
    if (!ty.members.some((m) => m.bitfieldSize)) continue;
    const tag = names.get(id)!;
    want.set(tag, new Map(ty.members.filter((m) => m.name).map((m) => [m.name, m.bitOffset])));
    uses.push(`_Static_assert(sizeof(${k} ${tag}) == ${ty.size}, "${tag}");`);
  }
  const r = clang(text, uses.join("\n"), ["-Xclang", "-fdump-record-layouts"]);
  assert.ok(r.ok, r.out.slice(0, 2000));
  const bad: string[] = [];
  let checked = 0;
  for (const block of r.out.split("*** Dumping AST Record Layout").slice(1)) {
    const lines = block.split("\n").filter((l) => l.includes("|"));
    const head = /^\s*0 \| (?:struct|union) (\w+)$/.exec(lines[0] ?? "");
    const expected = head && want.get(head[1]!);
    if (!expected) continue;
    want.delete(head[1]!);
    for (const l of lines.slice(1)) {
      const m = /^\s*(\d+)(?::(\d+)-\d+)? \| {3}(?! ).*?\b(\w+)$/.exec(l);
      if (!m || !expected.has(m[3]!)) continue;
      checked++;
      const got = Number(m[1]) * 8 + Number(m[2] ?? 0);
      if (got !== expected.get(m[3]!)) bad.push(`${head[1]}.${m[3]}: clang ${got}, BTF ${expected.get(m[3]!)}`);
    }
  }
  assert.deepEqual(bad, []);
  assert.equal(want.size, 0, `not laid out: ${[...want.keys()].slice(0, 5).join(", ")}`);
  t.diagnostic(`${checked} members of structs with bitfields checked`);
});

test("bpftool's header and ours agree on struct sizes (where bpftool's is right)", (t) => {
  const reason = skipReason();
  if (reason) return t.skip(reason);
  if (!BPFTOOL) return t.skip("bpftool not installed");
  const dump = spawnSync(BPFTOOL, ["btf", "dump", "file", VMLINUX, "format", "c"], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (dump.status !== 0) return t.skip(`bpftool failed: ${dump.stderr.slice(0, 200)}`);
  const { btf } = print();
  const sizes = allAssertions(btf, undefined).asserts.filter((a) => a.startsWith("_Static_assert(sizeof"));
  const theirs = clang(dump.stdout, sizes.join("\n"));
  const theirBad = [...theirs.out.matchAll(/static_assert failed .*?"size ([^"]+)"/g)].map((m) => m[1]!);
  const ours = clang(print().text, sizes.join("\n"));
  const ourBad = [...ours.out.matchAll(/static_assert failed .*?"size ([^"]+)"/g)].map((m) => m[1]!);
  t.diagnostic(`${sizes.length} structs: bpftool's header disagrees with the BTF on ${theirBad.length} (${theirBad.slice(0, 8).join(", ")}), ours on ${ourBad.length}`);
  assert.deepEqual(ourBad, []);
  assert.ok(theirBad.length < sizes.length / 100, "bpftool's header should be mostly right too");
});
