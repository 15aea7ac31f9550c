// Tier 2: BCC's --cgroupmap / --mntnsmap on the real kernel: bpftool pins a hash map of ids, a child waits in a new
// cgroup v2 directory (or a new mount namespace) whose id is in the map, and the tools show what it does and not
// what a process outside does. Wrong maps are usage errors that leave nothing open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tool as execsnoopTool } from "../../src/tools/execsnoop.js";
import { tool as tcpconnectTool } from "../../src/tools/tcpconnect.js";
import { execsnoop } from "../../src/tools/execsnoop.js";
import { ErrorCode } from "../../src/index.js";
import { liveFds } from "../../src/sys/index.js";
import { startTool, sleepMs, toolSkip } from "../helpers/tool-run.js";
import { cgroup2Root, cgroup2Dir, haveBpftool, mountBpffs, waitingShell } from "../helpers/task-filter.js";

const base = await toolSkip();
const skip = base || (!haveBpftool() ? "bpftool is needed (package bpftool)" : false);
const cgSkip = skip || (!cgroup2Root() ? "no cgroup v2 mount on this host" : false);

/** Runs /bin/echo MARKER outside any filter set; resolves with its pid once it has exited. */
async function outsider(marker: string): Promise<number> {
  const c = spawn("/bin/echo", [marker], { stdio: "ignore" });
  await new Promise((r) => c.on("exit", r));
  return c.pid!;
}

test("execsnoop --cgroupmap shows the exec of a child in a listed cgroup, not one outside", { skip: cgSkip }, async () => {
  const fs = mountBpffs();
  const cg = cgroup2Dir(`tsbcc-cgmap-${process.pid}`);
  try {
    const path = fs.pinIdSet("cgset", [cg.id]);
    const t = startTool(execsnoopTool, ["--cgroupmap", path]);
    assert.ok(await t.waitFor(/PCOMM/), t.err());
    let inside: number | undefined;
    const outside: number[] = [];
    // An argument page not yet resident reads as empty (as in BCC): up to three tries for a complete line.
    for (let attempt = 0; attempt < 3 && !(inside && t.out().includes(`in-${attempt - 1}-${process.pid}`)); attempt++) {
      const sh = waitingShell(["/bin/echo", `in-${attempt}-${process.pid}`]);
      writeFileSync(`${cg.dir}/cgroup.procs`, String(sh.child.pid));
      await sh.go();
      inside = sh.child.pid!;
      outside.push(await outsider(`out-${attempt}-${process.pid}`));
      await t.waitFor(new RegExp(`^echo +${inside} `, "m"), 3000);
    }
    await sleepMs(300);
    assert.equal(await t.stop(), 0, t.err());
    const out = t.out();
    assert.match(out, new RegExp(`^echo +${inside} +${process.pid} +0 /bin/echo in-\\d-${process.pid}$`, "m"), out);
    for (const pid of outside) assert.doesNotMatch(out, new RegExp(`^\\S+ +${pid} `, "m"), "an exec outside the cgroup is not shown");
    assert.doesNotMatch(out, /out-\d-/, out);
  } finally {
    cg.remove();
    fs.done();
  }
});

test("execsnoop --mntnsmap shows the exec of a child in a listed mount namespace, not one outside", { skip }, async () => {
  const fs = mountBpffs();
  try {
    const path = fs.pinIdSet("mntset", []);
    const t = startTool(execsnoopTool, ["--mntnsmap", path]);
    assert.ok(await t.waitFor(/PCOMM/), t.err());
    let inside: number | undefined;
    const outside: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const sh = waitingShell(["/bin/echo", `ns-${attempt}-${process.pid}`], true);
      const ns = await sh.mountNs();
      fs.addId(path, ns);
      await sh.go();
      inside = sh.child.pid!;
      outside.push(await outsider(`nsout-${attempt}-${process.pid}`));
      if (await t.waitFor(new RegExp(`^echo +${inside} .*ns-${attempt}-`, "m"), 3000)) break;
    }
    await sleepMs(300);
    assert.equal(await t.stop(), 0, t.err());
    const out = t.out();
    assert.match(out, new RegExp(`^echo +${inside} +${process.pid} +0 /bin/echo ns-\\d-${process.pid}$`, "m"), out);
    for (const pid of outside) assert.doesNotMatch(out, new RegExp(`^\\S+ +${pid} `, "m"), "an exec in our own mount namespace is not shown");
  } finally {
    fs.done();
  }
});

test("tcpconnect --cgroupmap shows a connect from a listed cgroup only", { skip: cgSkip }, async () => {
  const fs = mountBpffs();
  const cg = cgroup2Dir(`tsbcc-cgmap-tcp-${process.pid}`);
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  try {
    const path = fs.pinIdSet("cgset", [cg.id]);
    const t = startTool(tcpconnectTool, ["--cgroupmap", path, "-P", String(port)]);
    assert.ok(await t.waitFor(/PID +COMM/), t.err());
    const connect = ["/usr/bin/python3", "-c", `import socket; socket.create_connection(("127.0.0.1", ${port})).close()`];
    const sh = waitingShell(connect);
    writeFileSync(`${cg.dir}/cgroup.procs`, String(sh.child.pid));
    await sh.go();
    const other = spawn(connect[0], connect.slice(1), { stdio: "ignore" });
    await new Promise((r) => other.on("exit", r));
    await t.waitFor(new RegExp(`^${sh.child.pid} `, "m"), 3000);
    await sleepMs(300);
    assert.equal(await t.stop(), 0, t.err());
    assert.match(t.out(), new RegExp(`^${sh.child.pid} +python3 +4 +127\\.0\\.0\\.1 +127\\.0\\.0\\.1 +${port}$`, "m"), t.out());
    assert.doesNotMatch(t.out(), new RegExp(`^${other.pid} `, "m"));
  } finally {
    server.close();
    cg.remove();
    fs.done();
  }
});

test("--cgroupmap/--mntnsmap: no pin, a pinned map of the wrong type or key size are usage errors; nothing leaks", { skip }, async () => {
  const fs = mountBpffs();
  try {
    const array = fs.pinIdSet("arr", [], { type: "array", keySize: 4 });
    const key4 = fs.pinIdSet("key4", [], { keySize: 4 });
    const cases: Array<[string[], RegExp]> = [
      [["--cgroupmap", `${fs.dir}/nothing`], /argument --cgroupmap: no BPF map pinned at .*nothing/],
      [["--mntnsmap", "/tmp"], /argument --mntnsmap: no BPF map pinned at \/tmp/],
      [["--cgroupmap", array], /argument --cgroupmap: .*arr is a map of type ARRAY; a HASH map is needed/],
      [["--mntnsmap", key4], /argument --mntnsmap: .*key4 has 4-byte keys; ids are u64/],
    ];
    for (const [argv, re] of cases) {
      const t = startTool(execsnoopTool, argv);
      assert.equal(await t.done, 2, argv.join(" "));
      assert.match(t.err(), re);
    }
    const before = liveFds().size;
    await assert.rejects(execsnoop({ cgroupMap: key4 }), (e: any) => e.code === ErrorCode.USAGE && /--cgroupmap/.test(e.message));
    assert.equal(liveFds().size, before, "the probe of the pinned map closed its fd");
  } finally {
    fs.done();
  }
});
