// Tier 2: tcpdrop sees the SYN the kernel drops when a process in a network namespace the test creates connects to
// a closed port (reason NO_SOCKET, answered by a RST): addresses, ports, flags, the connecting pid, the stack.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { tool } from "../../src/tools/tcpdrop.js";
import { tcpdrop, tcpFlagNames, UsageError, type TcpDropEvent } from "../../src/tools/index.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = (await toolSkip()) || (spawnSync("ip", ["-V"]).status !== 0 && "ip (iproute2) is needed");
const PORT = 9;

/** Runs `fn` with a fresh netns (loopback up) and removes it afterwards. */
async function withNetns<T>(fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `tsbcc-tcpdrop-${process.pid}`;
  execFileSync("ip", ["netns", "add", ns]);
  try {
    execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
    return await fn(ns);
  } finally {
    execFileSync("ip", ["netns", "del", ns]);
  }
}

/** Connects to 127.0.0.1:PORT (closed) inside `ns` with bash's /dev/tcp; resolves with bash's pid. */
function refusedConnect(ns: string): Promise<number> {
  const child = spawn("ip", ["netns", "exec", ns, "bash", "-c", `echo $$; exec 3<>/dev/tcp/127.0.0.1/${PORT}`], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  return new Promise((resolve) => child.on("exit", (code) => {
    assert.notEqual(code, 0, "the connection must be refused");
    resolve(Number(out.trim()));
  }));
}

test("tcpdrop as a library: the refused SYN (NO_SOCKET) with its addresses, ports, pid and kernel stack", { skip }, async () => {
  await withNetns(async (ns) => {
    const stream = await tcpdrop({ ipVersion: 4 });
    assert.equal(stream.source.kind, "tracepoint");
    const pid = await refusedConnect(ns);
    setTimeout(() => stream.close(), 1000);
    let found: TcpDropEvent | undefined;
    for await (const ev of stream) if (ev.dport === PORT && ev.daddr === "127.0.0.1") found ??= ev;
    assert.ok(found, "the SYN drop was reported");
    assert.equal(found.saddr, "127.0.0.1");
    assert.ok(found.sport > 1024);
    assert.equal(found.flags, "SYN");
    assert.equal(found.reason, "NO_SOCKET");
    assert.equal(found.state, undefined, "no socket for a closed port");
    assert.equal(found.pid, pid, "dropped in the connecting process's softirq");
    assert.ok(found.stack.some((f) => /^tcp_v4_rcv\+0x/.test(f)), found.stack.join("\n"));
  });
});

test("tcpdrop CLI: BCC's header, the drop line and its stack; wrong input", { skip }, async () => {
  assert.equal(tcpFlagNames(0x12), "SYN|ACK");
  await withNetns(async (ns) => {
    const t = startTool(tool, ["-4"]);
    assert.ok(await t.waitFor(/\(FLAGS\)\n/), t.err());
    // Only the header line is ours to expect: the tool sees every drop on the machine (other sessions too).
    assert.ok(t.out().startsWith("TIME     PID     IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)\n"), t.out());
    const pid = await refusedConnect(ns);
    const m = await t.waitFor(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${pid} +4  127\\.0\\.0\\.1:\\d+ +> 127\\.0\\.0\\.1:${PORT} +- \\(SYN\\)\\n((\\t.*\\n)+)\\n`, "m"));
    assert.equal(await t.stop(), 0);
    assert.ok(m, t.out());
    assert.match(m[1], /\ttcp_v4_rcv\+0x[0-9a-f]+\n/);
  });
  const bad = startTool(tool, ["-4", "-6"]);
  assert.equal(await bad.done, 2);
  assert.match(bad.err(), /not allowed with argument/);
  await assert.rejects(tcpdrop({ source: "kprobe" }), UsageError);
});
