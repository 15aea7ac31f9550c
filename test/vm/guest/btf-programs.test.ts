// Runs inside the VM guest (see docs/VM.md): BTF-attached programs from BCC C. KFUNC_PROBE/KRETFUNC_PROBE on
// do_sys_openat2 see a child's file names and the fds/errnos it got; LSM_PROBE(file_open) denies one of its
// opens with EPERM; a BPF_ITER(task) iterator lists the guest's processes. All autoloaded, then detached.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { BPF } from "../../../src/api/bpf.js";
import { liveFds } from "../../../src/sys/index.js";
import { haveGcc, openFiles } from "../../helpers/build.js";

const PROGRAM = `
struct name_t { char name[64]; };
BPF_ARRAY(target, u32, 1);
BPF_ARRAY(seq, u32, 2);
BPF_HASH(names, u32, struct name_t);
BPF_HASH(dfds, u32, s32);
BPF_HASH(rets, u32, s64);

static __always_inline int watched(void) {
  u32 zero = 0;
  u32 *pid = target.lookup(&zero);
  return pid && *pid == (u32)(bpf_get_current_pid_tgid() >> 32);
}
/* Only the test's files (/tmp/TSB...), not what the dynamic loader opens. */
static __always_inline int marked(const char *n) {
  return n[0] == '/' && n[1] == 't' && n[2] == 'm' && n[3] == 'p' && n[4] == '/' && n[5] == 'T' && n[6] == 'S' && n[7] == 'B';
}
static __always_inline int next(u32 which) {
  u32 *i = seq.lookup(&which);
  if (!i) return -1;
  u32 idx = *i;
  *i = idx + 1;
  return idx;
}

KFUNC_PROBE(do_sys_openat2, int dfd, const char *filename, struct open_how *how) {
  if (!watched()) return 0;
  struct name_t n = {};
  bpf_probe_read_user_str(n.name, sizeof(n.name), filename);
  if (!marked(n.name)) return 0;
  int i = next(0);
  if (i < 0) return 0;
  u32 idx = i;
  names.update(&idx, &n);
  s32 d = dfd;
  dfds.update(&idx, &d);
  return 0;
}

KRETFUNC_PROBE(do_sys_openat2, int dfd, const char *filename, struct open_how *how, long ret) {
  if (!watched()) return 0;
  struct name_t n = {};
  bpf_probe_read_user_str(n.name, sizeof(n.name), filename);
  if (!marked(n.name)) return 0;
  int i = next(1);
  if (i < 0) return 0;
  u32 idx = i;
  s64 r = ret;
  rets.update(&idx, &r);
  return 0;
}

LSM_PROBE(file_open, struct file *file) {
  if (!watched()) return 0;
  const unsigned char *name = file->f_path.dentry->d_name.name;
  char c[8] = {};
  bpf_probe_read_kernel(c, 5, name);
  if (c[0] == 'd' && c[1] == 'e' && c[2] == 'n' && c[3] == 'y' && c[4] == '_') return -1; /* -EPERM */
  return 0;
}

BPF_ITER(task) {
  struct seq_file *sf = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  if (!task) return 0;
  u64 data[2] = { task->tgid, task->pid };
  static const char fmt[] = "%d %d\\n";
  bpf_seq_printf(sf, fmt, sizeof(fmt), data, sizeof(data));
  return 0;
}
`;

function runChild(paths: string[], setTarget: (pid: number) => void): Promise<string> {
  const child = spawn(openFiles(), paths, { stdio: ["pipe", "pipe", "inherit"] });
  setTarget(child.pid!);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => {
    child.on("close", () => resolve(out));
    child.stdin!.end("x");
  });
}

test("KFUNC_PROBE/KRETFUNC_PROBE args and returns, LSM_PROBE denial, BPF_ITER task listing", { timeout: 300_000 }, async (t) => {
  if (process.env.TSBCC_VM !== "1") {
    t.skip("not inside the VM guest");
    return;
  }
  if (!haveGcc) {
    t.skip("gcc is needed to build the child");
    return;
  }
  assert.ok(BPF.supportKfunc(), "the guest kernel loads fentry programs");
  assert.ok(BPF.supportLsm(), "the guest kernel loads LSM programs");
  const dir = `/tmp/TSB_${process.pid}`;
  mkdirSync(dir, { recursive: true });
  const present = `${dir}/present.txt`, missing = `${dir}/missing.txt`, denied = `${dir}/deny_me.txt`;
  writeFileSync(present, "p");
  writeFileSync(denied, "d");
  openFiles(); // build before timing-sensitive parts
  const before = liveFds().size;
  const b = await BPF.load({ text: PROGRAM });
  try {
    assert.deepEqual(b.functions, ["kfunc__vmlinux__do_sys_openat2", "kretfunc__vmlinux__do_sys_openat2", "lsm__file_open", "bpf_iter__task"]);
    const out = await runChild([present, missing, denied], (pid) => b.table("target").set(0, pid));
    const lines = out.trim().split("\n").map((l) => l.split(" ").map(Number));
    assert.equal(lines.length, 3, out);
    const [[fd, err0], [m, errMissing], [d, errDenied]] = lines as [number[], number[], number[]];
    assert.ok(fd! >= 3 && err0 === 0, `present file opened: ${out}`);
    assert.deepEqual([m, errMissing], [-1, 2], "missing file: ENOENT");
    assert.deepEqual([d, errDenied], [-1, 1], "LSM_PROBE denied deny_me.txt with EPERM");

    const names = b.table("names"), dfds = b.table("dfds"), rets = b.table("rets");
    assert.deepEqual([0, 1, 2].map((i) => names.get(i)?.name), [present, missing, denied], "fentry saw the file names in order");
    assert.deepEqual([0, 1, 2].map((i) => dfds.get(i)), [-100, -100, -100], "dfd is AT_FDCWD");
    assert.deepEqual([0, 1, 2].map((i) => rets.get(i)), [BigInt(fd!), -2n, -1n], "fexit saw the fd, -ENOENT and -EPERM");

    const listing = b.readIter("bpf_iter__task");
    const pairs = new Set(listing.trim().split("\n"));
    assert.ok(pairs.has("1 1"), "init (pid 1) is listed");
    assert.ok(pairs.has(`${process.pid} ${process.pid}`), "this test process is listed");
    assert.equal(b.readIter("task").split("\n").length > 2, true, "an iterator can be read again (prefix optional)");

    b.detachLsm({ fnName: "file_open" });
    assert.throws(() => b.detachLsm({ fnName: "file_open" }), /not attached/);
    const again = await runChild([denied], (pid) => b.table("target").set(0, pid));
    assert.match(again, /^\d+ 0\n$/, "after detaching the LSM program the open succeeds");
  } finally {
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveFds().size, before);
});
