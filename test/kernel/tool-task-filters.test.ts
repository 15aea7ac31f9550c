// Tier 2: BCC's --cgroupmap / --mntnsmap on the real kernel: bpftool pins a hash map of ids, a child waits in a new
// cgroup v2 directory (or a new mount namespace) whose id is in the map, and the tools show what it does and not
// what a process outside does (execsnoop, opensnoop, mountsnoop, tcpconnect, tcpaccept, tcptop, profile; capable
// needs kprobes: VM guest). Wrong
// maps are usage errors that leave nothing open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { tool as execsnoopTool } from "../../src/tools/execsnoop.js";
import { tool as tcpconnectTool } from "../../src/tools/tcpconnect.js";
import { tool as tcpacceptTool } from "../../src/tools/tcpaccept.js";
import { tool as opensnoopTool } from "../../src/tools/opensnoop.js";
import { execsnoop } from "../../src/tools/execsnoop.js";
import { profile } from "../../src/tools/profile.js";
import { tool as mountsnoopTool } from "../../src/tools/mountsnoop.js";
import { tcptop, tcptopRows } from "../../src/tools/tcptop.js";
import { ErrorCode } from "../../src/index.js";
import { liveFds } from "../../src/sys/index.js";
import { startTool, sleepMs, toolSkip, type RunningTool } from "../helpers/tool-run.js";
import { cgroup2Root, cgroup2Dir, mountBpffs, waitingShell } from "../helpers/task-filter.js";
import { requireTool } from "../helpers/build.js";

const base = await toolSkip();
requireTool("bpftool", "bpftool");
const skip = base;
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
      await t.waitFor(new RegExp(`^echo +${inside} `, "m"));
    }
    await sleepMs(300);
    assert.equal(await t.stop(), 0, t.err());
    const out = t.out();
    assert.match(out, new RegExp(`^echo +${inside} +${process.pid} +0 /bin/echo in-\\d-${process.pid}$`, "m"), out);
    for (const pid of outside) assert.doesNotMatch(out, new RegExp(`^\\S+ +${pid} `, "m"), "an exec outside the cgroup is not shown");
    assert.doesNotMatch(out, /out-\d-/, out);
  } finally {
    await cg.remove();
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
      // The exec's line (any), then whether its arguments were read (see the test above).
      await t.waitFor(new RegExp(`^echo +${inside} `, "m"));
      if (new RegExp(`^echo +${inside} .*ns-${attempt}-`, "m").test(t.out())) break;
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
    await t.waitFor(new RegExp(`^${sh.child.pid} `, "m"));
    await sleepMs(300);
    assert.equal(await t.stop(), 0, t.err());
    assert.match(t.out(), new RegExp(`^${sh.child.pid} +python3 +4 +127\\.0\\.0\\.1 +127\\.0\\.0\\.1 +${port}$`, "m"), t.out());
    assert.doesNotMatch(t.out(), new RegExp(`^${other.pid} `, "m"));
  } finally {
    server.close();
    await cg.remove();
    fs.done();
  }
});

test("opensnoop --mntnsmap shows the opens of a child in a listed mount namespace only", { skip }, async () => {
  const fs = mountBpffs();
  try {
    const path = fs.pinIdSet("mntset", []);
    const t = startTool(opensnoopTool, ["--mntnsmap", path]);
    assert.ok(await t.waitFor(/PATH\n/), t.err());
    const sh = waitingShell(["/bin/cat", `/nonexistent/tsbcc-in-${process.pid}`], true);
    fs.addId(path, await sh.mountNs());
    await sh.go();
    const other = spawn("/bin/cat", [`/nonexistent/tsbcc-out-${process.pid}`], { stdio: "ignore" });
    await new Promise((r) => other.on("exit", r));
    await t.waitFor(new RegExp(`tsbcc-in-${process.pid}`));
    await sleepMs(300);
    assert.equal(await t.stop(), 0, t.err());
    assert.match(t.out(), new RegExp(`^${sh.child.pid} +cat +-1 +2 /nonexistent/tsbcc-in-${process.pid}$`, "m"), t.out());
    assert.doesNotMatch(t.out(), /tsbcc-out-/);
    assert.doesNotMatch(t.out(), new RegExp(`^${process.pid} `, "m"), "our own opens (outside the namespace) are not shown");
  } finally {
    fs.done();
  }
});

test("tcpaccept --cgroupmap shows the accept of a server in a listed cgroup only", { skip: cgSkip }, async () => {
  const fs = mountBpffs();
  const cg = cgroup2Dir(`tsbcc-cgmap-acc-${process.pid}`);
  const servers: ChildProcess[] = [];
  let t: RunningTool | undefined;
  try {
    const path = fs.pinIdSet("cgset", [cg.id]);
    t = startTool(tcpacceptTool, ["--cgroupmap", path]);
    assert.ok(await t.waitFor(/LPORT\n/), t.err());
    // Two one-shot servers that print their port once listening; the first runs in the cgroup.
    const serve = 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); s.accept()[0].close()';
    const ports: number[] = [];
    for (const inside of [true, false]) {
      const sh = waitingShell(["/usr/bin/python3", "-c", serve], false, "pipe");
      if (inside) writeFileSync(`${cg.dir}/cgroup.procs`, String(sh.child.pid));
      sh.child.stdin!.end("go\n");
      servers.push(sh.child);
      const port = await new Promise<string>((r) => {
        let text = "";
        sh.child.stdout!.on("data", (d) => (text += d) && text.endsWith("\n") && r(text));
        sh.child.once("exit", () => r(`exited: ${text}`));
      });
      assert.match(port, /^\d+\n$/, "the server printed its port");
      ports.push(Number(port));
    }
    for (const port of ports) await new Promise<void>((r) => connect(port, "127.0.0.1").on("connect", function (this: Socket) { this.destroy(); r(); }));
    await Promise.all(servers.map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.on("exit", r)))));
    await t.waitFor(new RegExp(`^${servers[0].pid} `, "m"));
    await sleepMs(300);
    assert.equal(await t.stop(), 0, t.err());
    assert.match(t.out(), new RegExp(`^${servers[0].pid} +python3 +4 +127\\.0\\.0\\.1 +\\d+ +127\\.0\\.0\\.1 +${ports[0]}$`, "m"), t.out());
    assert.doesNotMatch(t.out(), new RegExp(`^${servers[1].pid} `, "m"));
  } finally {
    await t?.stop();
    for (const c of servers) c.kill();
    await cg.remove();
    fs.done();
  }
});

test("profile --cgroupmap samples only the spinner in the listed cgroup", { skip: cgSkip }, async () => {
  const fs = mountBpffs();
  const cg = cgroup2Dir(`tsbcc-cgmap-prof-${process.pid}`);
  const spin = ["/usr/bin/python3", "-c", "import time\nt = time.time() + 1.5\nwhile time.time() < t: pass"];
  try {
    const path = fs.pinIdSet("cgset", [cg.id]);
    const stream = await profile({ cgroupMap: path, frequency: 99 });
    const inside = waitingShell(spin);
    writeFileSync(`${cg.dir}/cgroup.procs`, String(inside.child.pid));
    const outside = spawn(spin[0], spin.slice(1), { stdio: "ignore" });
    await inside.go();
    stream.close(); // once the spinner has spun (not after a fixed time, which it may outlast on a loaded machine)
    let stacks: Array<{ pid: number; value: number }> = [];
    for await (const s of stream) stacks = s;
    const mine = stacks.filter((s) => s.pid === inside.child.pid).reduce((n, s) => n + s.value, 0);
    // 1.5 s at 99 Hz is ~150 samples on an idle CPU; the host is shared, so only require some.
    assert.ok(mine >= 5, `${mine} samples of the spinner in the cgroup`);
    assert.deepEqual([...new Set(stacks.map((s) => s.pid))], [inside.child.pid], "no sample from outside the cgroup");
    await new Promise((r) => (outside.exitCode !== null ? r(0) : outside.on("exit", r)));
  } finally {
    await cg.remove();
    fs.done();
  }
});

test("mountsnoop --mntnsmap shows a mount made in a listed mount namespace, not one made outside", { skip }, async () => {
  const fs = mountBpffs();
  const target = mkdtempSync(join(tmpdir(), "tsbcc-mntns-target-"));
  try {
    const path = fs.pinIdSet("mntset", []);
    const t = startTool(mountsnoopTool, ["--mntnsmap", path]);
    assert.ok(await t.waitFor(/CALL\n/), t.err());
    const sh = waitingShell(["mount", "-t", "tmpfs", `tsbcc-in-${process.pid}`, target], true);
    fs.addId(path, await sh.mountNs());
    await sh.go();
    const { execFileSync } = await import("node:child_process");
    execFileSync("mount", ["-t", "tmpfs", `tsbcc-out-${process.pid}`, target]);
    execFileSync("umount", [target]);
    await t.waitFor(new RegExp(`tsbcc-in-${process.pid}`));
    await sleepMs(300);
    assert.equal(await t.stop(), 0, t.err());
    assert.match(t.out(), new RegExp(`^mount +${sh.child.pid} .* mount\\("tsbcc-in-${process.pid}", "${target}", "tmpfs", .*\\) = 0$`, "m"), t.out());
    assert.doesNotMatch(t.out(), /tsbcc-out-|umount\(/);
  } finally {
    rmdirSync(target);
    fs.done();
  }
});

test("tcptop --cgroupmap counts the bytes of a sender in a listed cgroup only", { skip: cgSkip }, async () => {
  const fs = mountBpffs();
  const cg = cgroup2Dir(`tsbcc-cgmap-top-${process.pid}`);
  let received = 0;
  const server = createServer((s) => s.on("data", (d) => (received += d.length)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  try {
    const stream = await tcptop({ cgroupMap: fs.pinIdSet("cgset", [cg.id]) });
    const send = ["/usr/bin/python3", "-c", `import socket; s = socket.create_connection(("127.0.0.1", ${port})); s.sendall(b"x" * 65536); s.close()`];
    const inside = waitingShell(send);
    writeFileSync(`${cg.dir}/cgroup.procs`, String(inside.child.pid));
    await inside.go();
    const outside = spawn(send[0], send.slice(1), { stdio: "ignore" });
    await new Promise((r) => outside.on("exit", r));
    // Both senders are done: the server reads what is left, then the stream ends (a fixed window could close before
    // two python starts on a loaded machine).
    for (const end = Date.now() + 30_000; received < 2 * 65536 && Date.now() < end;) await sleepMs(20);
    stream.close();
    const rows = [];
    for await (const r of stream) rows.push(...tcptopRows(r));
    assert.equal(received, 2 * 65536, "both senders' bytes arrived");
    assert.deepEqual(rows.map((r) => [r.pid, r.txBytes, r.rport]), [[inside.child.pid, 65536, port]], JSON.stringify(rows));
  } finally {
    server.close();
    await cg.remove();
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
