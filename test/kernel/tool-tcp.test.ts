// Tier 2: the TCP tools on a local session this test opens: tcplife reports its ports and exactly the bytes each
// side sent (struct tcp_sock), tcpstates its state changes, tcpconnect and tcpaccept the two ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { tool as lifeTool } from "../../src/tools/tcplife.js";
import { tool as statesTool } from "../../src/tools/tcpstates.js";
import { tool as connectTool } from "../../src/tools/tcpconnect.js";
import { tool as acceptTool } from "../../src/tools/tcpaccept.js";
import { tcplife, tcpstates, type TcpSessionEvent } from "../../src/tools/index.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const UP = 300_000;
const DOWN = 7_000;

/** A session on 127.0.0.1: the client sends UP bytes, the server answers DOWN bytes, both close. */
async function session(): Promise<{ serverPort: number; clientPort: number }> {
  let serverSide: Socket | undefined;
  const server = createServer((s) => {
    serverSide = s;
    let got = 0;
    s.on("data", (d) => {
      got += d.length;
      if (got === UP) s.end(new Uint8Array(DOWN));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const serverPort = (server.address() as { port: number }).port;
  const client = connect(serverPort, "127.0.0.1");
  await new Promise((r) => client.on("connect", r));
  const clientPort = client.localPort!;
  let received = 0;
  client.on("data", (d) => (received += d.length));
  client.write(new Uint8Array(UP));
  await new Promise((r) => client.on("end", r));
  assert.equal(received, DOWN);
  client.end();
  await new Promise((r) => client.on("close", r));
  await new Promise((r) => serverSide!.on("close", r));
  await new Promise((r) => server.close(r));
  return { serverPort, clientPort };
}

test("tcplife as a library: both ends of a local session with exact byte counts and ports", { skip }, async () => {
  const stream = await tcplife({ pid: process.pid, duration: 20 });
  const { serverPort, clientPort } = await session();
  const seen: TcpSessionEvent[] = [];
  for await (const ev of stream) {
    if (ev.localPort === clientPort || ev.localPort === serverPort) seen.push(ev);
    if (seen.length === 2) break;
  }
  const client = seen.find((e) => e.localPort === clientPort);
  const server = seen.find((e) => e.localPort === serverPort);
  assert.ok(client && server, JSON.stringify(seen, (_k, v) => (typeof v === "bigint" ? String(v) : v)));
  assert.equal(client.remotePort, serverPort);
  assert.equal(client.localAddr, "127.0.0.1");
  // bytes_acked (what BCC's TX_KB shows) counts the SYN's and FIN's sequence numbers too: +1 each when acked.
  assert.ok(client.txBytes >= UP && client.txBytes <= UP + 2, `client acked ${client.txBytes} for ${UP} sent`);
  assert.ok(server.txBytes >= DOWN && server.txBytes <= DOWN + 2, `server acked ${server.txBytes} for ${DOWN} sent`);
  // bytes_received counts the peer's FIN too.
  assert.ok(client.rxBytes >= DOWN && client.rxBytes <= DOWN + 1, `client received ${client.rxBytes} for ${DOWN}`);
  assert.ok(server.rxBytes >= UP && server.rxBytes <= UP + 1, `server received ${server.rxBytes} for ${UP}`);
  assert.equal(client.pid, process.pid);
  assert.ok(client.durationMs > 0);
});

test("tcplife -L PORT prints BCC's columns with KB counts", { skip }, async () => {
  // The server port is known only once listening: trace by remote port of the client instead (-D), after a dry run.
  const t = startTool(lifeTool, ["-p", String(process.pid)]);
  assert.ok(await t.waitFor(/MS\n/), t.err());
  assert.equal(t.out(), "PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS\n");
  const { serverPort, clientPort } = await session();
  const line = await t.waitFor(new RegExp(`^${process.pid} +\\S+ +127\\.0\\.0\\.1 +${clientPort} +127\\.0\\.0\\.1 +${serverPort} +(\\d+) +(\\d+) [\\d.]+$`, "m"));
  assert.equal(await t.stop(), 0);
  assert.ok(line, t.out());
  assert.equal(Number(line[1]), Math.trunc(UP / 1024));
  assert.equal(Number(line[2]), Math.trunc(DOWN / 1024));
});

test("tcpstates: the client socket goes CLOSE -> SYN_SENT -> ESTABLISHED -> ... -> CLOSE", { skip }, async () => {
  const stream = await tcpstates({ duration: 20 });
  const { clientPort } = await session();
  const changes: string[] = [];
  let sk: bigint | undefined;
  for await (const ev of stream) {
    if (ev.newState === "SYN_SENT" && ev.remotePort !== 0 && sk === undefined && ev.pid === process.pid) sk = ev.skaddr;
    if (sk !== undefined && ev.skaddr === sk) {
      changes.push(`${ev.oldState}->${ev.newState}`);
      if (ev.newState === "ESTABLISHED") assert.equal(ev.localPort, clientPort);
      if (ev.newState === "CLOSE") break;
    }
  }
  assert.deepEqual(changes.slice(0, 2), ["CLOSE->SYN_SENT", "SYN_SENT->ESTABLISHED"]);
  assert.equal(changes.at(-1)?.endsWith("->CLOSE"), true, changes.join(" "));
  const t = startTool(statesTool, ["-L", "1"]);
  assert.ok(await t.waitFor(/MS\n/));
  assert.equal(await t.stop(), 0);
  assert.equal(t.out(), "SKADDR           C-PID C-COMM     LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS\n");
});

test("tcpconnect -L -p OURPID and tcpaccept -p OURPID show the two ends of the session", { skip }, async () => {
  const c = startTool(connectTool, ["-L", "-p", String(process.pid)]);
  const a = startTool(acceptTool, ["-p", String(process.pid)]);
  assert.ok(await c.waitFor(/DPORT\n/), c.err());
  assert.ok(await a.waitFor(/LPORT\n/), a.err());
  const { serverPort, clientPort } = await session();
  const cl = await c.waitFor(new RegExp(`^${process.pid} +\\S+ +4 +127\\.0\\.0\\.1 +${clientPort} +127\\.0\\.0\\.1 +${serverPort}$`, "m"));
  const al = await a.waitFor(new RegExp(`^${process.pid} +\\S+ +4 +127\\.0\\.0\\.1 +${clientPort} +127\\.0\\.0\\.1 +${serverPort}$`, "m"));
  assert.equal(await c.stop(), 0);
  assert.equal(await a.stop(), 0);
  assert.ok(cl, c.out());
  assert.ok(al, a.out());
  assert.match(c.out(), /^PID     COMM         IP SADDR            LPORT  DADDR            DPORT\n/);
  assert.match(a.out(), /^PID     COMM         IP RADDR            RPORT LADDR            LPORT\n/);
  const bad = startTool(connectTool, ["-P", "99999"]);
  assert.equal(await bad.done, 2);
  assert.match(bad.err(), /invalid port list '99999'/);
});
