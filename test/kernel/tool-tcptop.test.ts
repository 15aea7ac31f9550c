// Tier 2: tcptop on the host kernel (send/receive syscall tracepoints on TCP socket fds) counts a local transfer
// of 256 KiB this process makes over loopback: TX on the client's connection, RX on the server's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tool } from "../../src/tools/tcptop.js";
import { tcptop, tcptopRows, UsageError, type IntervalReport } from "../../src/tools/index.js";
import { loopbackTransfer } from "../helpers/tcp-transfer.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();
const BYTES = 256 * 1024;

const transfer = (): ReturnType<typeof loopbackTransfer> => loopbackTransfer(BYTES);

test("tcptop as a library: -p counts the 256 KiB sent on the client's connection and received on the server's", { skip }, async () => {
  const stream = await tcptop({ pid: process.pid, ipVersion: 4 });
  const { serverPort, clientPort } = await transfer();
  stream.close();
  const reports: IntervalReport[] = [];
  for await (const r of stream) reports.push(r);
  const rows = tcptopRows(reports[0]);
  const client = rows.find((r) => r.lport === clientPort && r.rport === serverPort);
  const server = rows.find((r) => r.lport === serverPort && r.rport === clientPort);
  assert.ok(client && server, JSON.stringify(rows));
  assert.equal(client.txBytes, BYTES);
  assert.equal(server.rxBytes, BYTES);
  assert.equal(client.pid, process.pid);
  assert.deepEqual([client.laddr, client.raddr, client.ipVersion], ["127.0.0.1", "127.0.0.1", 4]);
});

test("tcptop CLI -C: BCC's header and the connection's row in KB; wrong input", { skip }, async () => {
  const t = startTool(tool, ["-C", "-p", String(process.pid), "5"]);
  assert.ok(await t.waitFor(/Hit Ctrl-C to end\n/), t.err());
  const { serverPort, clientPort } = await transfer();
  assert.equal(await t.stop(), 0);
  const out = t.out();
  assert.match(out, /^Tracing\.\.\. Output every 5 secs\. Hit Ctrl-C to end\n\n\d\d:\d\d:\d\d loadavg: [\d. /]+\n\nPID     COMM         LADDR                 RADDR                  RX_KB  TX_KB\n/);
  const row = out.split("\n").find((l) => l.split(/\s+/)[2] === `127.0.0.1:${clientPort}`);
  assert.ok(row, out);
  const cols = row.trim().split(/\s+/);
  assert.deepEqual([cols[0], cols[2], cols[3], cols.at(-1)], [String(process.pid), `127.0.0.1:${clientPort}`, `127.0.0.1:${serverPort}`, String(BYTES / 1024)]);
  const bad = startTool(tool, ["-4", "-6"]);
  assert.equal(await bad.done, 2);
  await assert.rejects(tcptop({ interval: 0 }), UsageError);
});
