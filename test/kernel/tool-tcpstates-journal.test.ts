// Tier 2: tcpstates -Y writes each state change to the journal in journald's native protocol. The test binds its
// own unix datagram socket (journald may be absent, as on this host) and checks that the entries it receives are
// the state changes of a local TCP session, with BCC's fields; without journald the option says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tcpstates, tool as statesTool, type TcpStateEvent } from "../../src/tools/tcpstates.js";
import { decodeJournalEntry, JOURNAL_SOCKET, JournalWriter, unixAddress } from "../../src/tools/lib/journal.js";
import { ErrorCode } from "../../src/index.js";
import { Fd, bindSocket, liveFds, recvFrom, socketOpen } from "../../src/sys/index.js";
import { Sock } from "../../src/sys/abi.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = await toolSkip();

/** A bound unix datagram socket standing in for journald; `entries()` drains what arrived. */
function fakeJournald(path: string): { entries(): Array<Record<string, string>>; close(): void } {
  // The same sockaddr_un encoding as the writer: a wrong one would fail bind here, not pass silently.
  const fd = new Fd(socketOpen(Sock.AF_UNIX, Sock.SOCK_DGRAM | Sock.SOCK_CLOEXEC, 0), "test journald");
  bindSocket(fd.value, unixAddress(path));
  const buf = new Uint8Array(1 << 16);
  return {
    entries() {
      const out: Array<Record<string, string>> = [];
      for (let n; (n = recvFrom(fd.value, buf, Sock.MSG_DONTWAIT)) >= 0;) out.push(decodeJournalEntry(buf.subarray(0, n)));
      return out;
    },
    close: () => fd.close(),
  };
}

test("tcpstates with journal: one entry per state change of a local session, BCC's fields", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-journal-"));
  const socketPath = join(dir, "socket");
  const journald = fakeJournald(socketPath);
  const server = createServer((s) => s.end());
  try {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const stream = await tcpstates({ journal: socketPath, remotePorts: [port], duration: 30 });
    const client = connect(port, "127.0.0.1");
    await new Promise((r) => client.on("connect", r));
    const clientPort = client.localPort!;
    client.end();
    client.resume();
    // Only the client's socket has the server's port as its remote port (its local port is 0 until after SYN_SENT).
    const seen: TcpStateEvent[] = [];
    for await (const ev of stream) {
      seen.push(ev);
      if (ev.newState === "CLOSE" && ev.localPort === clientPort) break;
    }
    const entries = journald.entries();
    assert.ok(seen.length >= 3, JSON.stringify(seen.map((e) => e.newState)));
    assert.deepEqual(entries.map((e) => `${e.OBJECT_TCP_OLD_STATE}->${e.OBJECT_TCP_NEW_STATE}`), seen.map((e) => `${e.oldState}->${e.newState}`));
    assert.deepEqual(entries.slice(0, 2).map((e) => e.OBJECT_TCP_NEW_STATE), ["SYN_SENT", "ESTABLISHED"]);
    for (const [i, e] of entries.entries()) {
      const ev = seen[i];
      assert.equal(e.SYSLOG_IDENTIFIER, "tcpstates");
      assert.equal(e.PRIORITY, "5");
      assert.equal(e.OBJECT_PID, String(ev.pid));
      assert.equal(e.OBJECT_IPV4_SOURCE_ADDRESS, "127.0.0.1");
      assert.equal(e.OBJECT_IPV4_DESTINATION_ADDRESS, "127.0.0.1");
      assert.equal(e.OBJECT_TCP_DESTINATION_PORT, String(port));
      assert.equal(e.OBJECT_TCP_SPAN_TIME, String(Math.round(ev.durationMs * 1000)));
      assert.equal(e.OBJECT_TCP_SOURCE_PORT, String(ev.localPort));
      assert.equal(e.MESSAGE, `${ev.comm} 127.0.0.1 ${ev.localPort} → 127.0.0.1 ${port} ${ev.oldState} → ${ev.newState}`);
      assert.ok(Math.abs(Number(e._SOURCE_REALTIME_TIMESTAMP) / 1000 - Date.now()) < 30_000);
      assert.equal(e.OBJECT_COMM, undefined, "as root, journald fills OBJECT_COMM from OBJECT_PID (as BCC leaves it)");
    }
    assert.equal(entries[0].OBJECT_PID, String(process.pid), "the connect happened in this process");
    assert.ok(entries.some((e) => e.OBJECT_TCP_SOURCE_PORT === String(clientPort)));
  } finally {
    server.close();
    journald.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tcpstates -Y without journald says so (exit 1); the library throws UNSUPPORTED and leaks nothing", { skip }, async (ctx) => {
  if (existsSync(JOURNAL_SOCKET)) return ctx.skip(`this host runs journald (${JOURNAL_SOCKET} exists)`);
  const t = startTool(statesTool, ["-Y"]);
  assert.equal(await t.done, 1);
  assert.match(t.err(), /^tsbcc tcpstates: no systemd journal on this host: \/run\/systemd\/journal\/socket does not exist/);
  assert.equal(t.out(), "");
  const before = liveFds().size;
  await assert.rejects(tcpstates({ journal: "/nonexistent/journal.sock" }), (e: any) => e.code === ErrorCode.UNSUPPORTED && /\/nonexistent\/journal\.sock/.test(e.message));
  assert.throws(() => new JournalWriter("/nonexistent/x"), /does not exist/);
  assert.equal(liveFds().size, before);
});
