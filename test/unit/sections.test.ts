// Tier 1: the one section rule (src/loader/sections.ts). A BCC function name gives the section the dialect emits,
// and that section gives the program type, expected attach type, attach kind and whether loading attaches it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { classifySection, sectionFor } from "../../src/loader/sections.js";
import { sectionFor as dialectSectionFor } from "../../src/dialect/index.js";
import { AttachType, ProgType } from "../../src/sys/abi.js";

test("BCC function name -> section -> what loads and attaches it", () => {
  const cases: [string, number, number, string, string, boolean][] = [
    ["tracepoint__sched__sched_process_exec", ProgType.TRACEPOINT, AttachType.NONE, "tracepoint", "sched/sched_process_exec", true],
    ["raw_tracepoint__sched_switch", ProgType.RAW_TRACEPOINT, AttachType.NONE, "raw_tracepoint", "sched_switch", true],
    ["kprobe__do_sys_open", ProgType.KPROBE, AttachType.NONE, "kprobe", "do_sys_open", true],
    ["kretprobe__do_sys_open", ProgType.KPROBE, AttachType.NONE, "kretprobe", "do_sys_open", true],
    ["kfunc__vmlinux__do_unlinkat", ProgType.TRACING, AttachType.TRACE_FENTRY, "btf", "do_unlinkat", true],
    ["kretfunc__nfs__nfs_open", ProgType.TRACING, AttachType.TRACE_FEXIT, "btf", "nfs_open", true],
    ["kmod_ret__should_fail", ProgType.TRACING, AttachType.MODIFY_RETURN, "btf", "should_fail", false],
    ["lsm__bpf", ProgType.LSM, AttachType.LSM_MAC, "btf", "bpf", true],
    ["bpf_iter__task", ProgType.TRACING, AttachType.TRACE_ITER, "iter", "task", false],
    ["trace_entry", ProgType.UNSPEC, AttachType.NONE, "none", "", false],
    ["syscall__execve", ProgType.UNSPEC, AttachType.NONE, "none", "", false],
  ];
  for (const [name, progType, expectedAttachType, attach, target, autoload] of cases) {
    const section = sectionFor(name);
    assert.equal(dialectSectionFor(name), section, "the dialect emits the loader's section");
    assert.deepEqual(classifySection(section), { progType, expectedAttachType, attach, target, autoload }, `${name} -> ${section}`);
  }
});

test("libbpf section names classify the same way; prefixes need a separator", () => {
  assert.equal(classifySection("tp/syscalls/sys_enter_getppid").attach, "tracepoint");
  assert.equal(classifySection("xdp").progType, ProgType.XDP);
  assert.equal(classifySection("xdp.frags").progType, ProgType.XDP);
  assert.equal(classifySection("xdpfoo").progType, ProgType.UNSPEC);
  assert.equal(classifySection("tc").attach, "tc");
  assert.equal(classifySection("uprobe/libc.so.6:malloc").autoload, false);
});
