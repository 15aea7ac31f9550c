// Tier 2: tcpretrans sees real retransmissions: a bulk transfer in a scratch network namespace loses its link.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { tool } from "../../src/tools/tcpretrans.js";
import { tcpretrans } from "../../src/tools/index.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const PORT = 47211;
// Bulk sending on 127.0.0.1 inside the namespace; after 0.3 s the namespace's lo goes down, so unacknowledged
// segments are retransmitted when the retransmission timer fires (every RTO, from 200 ms).
const WORKLOAD = `
import socket, threading, time, os
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", ${PORT})); s.listen()
def drain():
    a, _ = s.accept()
    try:
        while a.recv(65536): pass
    except OSError: pass
threading.Thread(target=drain, daemon=True).start()
c = socket.create_connection(("127.0.0.1", ${PORT}))
def send():
    try:
        while True: c.sendall(b"x" * 65536)
    except OSError: pass
threading.Thread(target=send, daemon=True).start()
time.sleep(0.3)
os.system("ip link set lo down")
time.sleep(1.5)
os._exit(0)
`;

const skip = (await toolSkip()) || (spawnSync("ip", ["-V"]).status !== 0 && "ip (iproute2) is needed");

test("tcpretrans shows retransmits of a stalled session, BCC's columns; the library counts them", { skip }, async () => {
  const ns = `tsbcc-retrans-${process.pid}`;
  execFileSync("ip", ["netns", "add", ns]);
  try {
    execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
    const t = startTool(tool, ["-4"]);
    assert.ok(await t.waitFor(/STATE\n/), t.err());
    assert.ok(t.out().startsWith("Tracing retransmits ... Hit Ctrl-C to end\nTIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE\n"), t.out()); // the whole machine is traced: others may follow
    const lib = await tcpretrans({ duration: 30 });
    execFileSync("ip", ["netns", "exec", ns, "python3", "-c", WORKLOAD], { timeout: 60000 });
    const line = await t.waitFor(new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\d+ +4  127\\.0\\.0\\.1:\\d+ +R> 127\\.0\\.0\\.1:${PORT} +\\S+$`, "m"));
    assert.equal(await t.stop(), 0);
    assert.ok(line, t.out());
    let n = 0;
    for await (const ev of lib) {
      if (ev.remotePort === PORT) n++;
      if (n >= 3) break;
    }
    assert.ok(n >= 3, `${n} retransmits seen by the library`);
  } finally {
    execFileSync("ip", ["netns", "del", ns]);
  }
});
