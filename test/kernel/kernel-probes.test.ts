// Tier 2 on the development kernel (no kprobes, fentry/LSM loads refused): the feature probes say so by
// trying, and BTF-attached programs fail with an error that names the cause and the alternative. The VM tier
// (test/vm/guest/) covers the same features on a kernel that has them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { BPF } from "../../src/api/bpf.js";
import { haveKprobes, haveFentry, haveProgramType, haveRawTracepoints, haveOverrideReturn, resetFeatureCache } from "../../src/kernel/features.js";
import { ProgType } from "../../src/loader/index.js";
import { resolveBtfTarget, BtfTargetError } from "../../src/loader/btf-target.js";
import { AttachType } from "../../src/sys/abi.js";
import { traceableFromText, kprobeBlacklist } from "../../src/kernel/kprobe-functions.js";
import { liveFds } from "../../src/sys/index.js";
import { haveClang } from "../helpers/build.js";

const root = process.getuid?.() === 0;
const skip = !root ? "needs root" : false;

test("feature probes: kprobes absent here, tracepoints and raw tracepoints present", { skip }, (t) => {
  resetFeatureCache();
  const kp = haveKprobes();
  if (kp.supported) {
    t.skip("this kernel has kprobes (the VM tier covers them)");
    return;
  }
  assert.match(kp.reason, /no kprobes/);
  assert.equal(BPF.supportKprobes(), false);
  assert.equal(haveProgramType(ProgType.TRACEPOINT).supported, true, haveProgramType(ProgType.TRACEPOINT).reason);
  assert.equal(haveRawTracepoints().supported, true);
  assert.equal(BPF.supportRawTracepoint(), true);
  assert.equal(haveOverrideReturn().supported, false);
  assert.match(haveOverrideReturn().reason, /no kprobes/);
});

test("loader: BTF targets resolve from section names, with clear errors for unknown ones", { skip: !existsSync("/sys/kernel/btf/vmlinux") && "no kernel BTF" }, () => {
  const f = resolveBtfTarget(AttachType.TRACE_FENTRY, "do_sys_openat2");
  assert.ok(f && f.btfId > 0 && f.module === "vmlinux" && f.objFd === undefined);
  assert.ok((resolveBtfTarget(AttachType.TRACE_ITER, "task")?.btfId ?? 0) > 0, "bpf_iter_task is in BTF");
  assert.throws(() => resolveBtfTarget(AttachType.TRACE_FEXIT, "tsbcc_no_such_fn"),
    (e: unknown) => e instanceof BtfTargetError && /function tsbcc_no_such_fn not found in kernel BTF/.test(e.message));
  assert.throws(() => resolveBtfTarget(AttachType.LSM_MAC, "no_such_hook"), /LSM hook no_such_hook \(bpf_lsm_no_such_hook\) not found in kernel BTF/);
  assert.equal(resolveBtfTarget(AttachType.NONE, "x"), undefined);
});

test("traceable functions: ftrace's list minus blacklist, .cold parts and perf internals; no blacklist file is fine", () => {
  const available = "vfs_read\nvfs_write\nvfs_read\nfoo.cold\nperf_event_open_x\n__SCT__x\nbad_fn\nmod_fn [ext4]\n";
  const black = kprobeBlacklist("0xffffffff81000000-0xffffffff81000010\tbad_fn\n0x0-0x0\tother\n");
  assert.deepEqual([...black], ["bad_fn", "other"]);
  assert.deepEqual(traceableFromText(available, black), ["vfs_read", "vfs_write", "mod_fn"]);
  assert.deepEqual([...kprobeBlacklist(undefined)], []);
});

test("KFUNC_PROBE on a kernel that refuses fentry loads: a clear error naming the cause and the alternative", { skip: skip || (!haveClang && "clang is needed") }, async (t) => {
  resetFeatureCache();
  if (haveFentry().supported) {
    t.skip("this kernel accepts fentry programs (the VM tier tests them)");
    return;
  }
  const before = liveFds().size;
  await assert.rejects(
    BPF.load({ text: "KFUNC_PROBE(do_sys_openat2, int dfd, const char *filename) { return 0; }" }),
    (e: Error) => {
      assert.match(e.message, /fentry programs \(KFUNC_PROBE\) are refused by this kernel/);
      assert.match(e.message, /EPERM/);
      assert.match(e.message, /use kprobe__do_sys_openat2 where kprobes work, or a tracepoint/);
      return true;
    });
  await assert.rejects(
    BPF.load({ text: "KRETFUNC_PROBE(do_sys_openat2, int dfd, const char *filename, void *how, long ret) { return 0; }" }),
    /fexit programs \(KRETFUNC_PROBE\) are refused by this kernel.*kretprobe__do_sys_openat2/s);
  assert.equal(liveFds().size, before, "nothing left open after the failed loads");
});
