// Tier 2: tcpconnect -d names the destination by what getaddrinfo resolved: a child in its own mount namespace sees
// a temporary /etc/hosts mapping a made-up name to 127.0.0.2, resolves it and connects; its line's QUERY column is
// that name. A connect to 127.0.0.1 without a lookup shows "localhost", one to 127.0.0.3 "No DNS Query" (BCC's).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool as connectTool, tcpconnect } from "../../src/tools/tcpconnect.js";
import { queryColumn } from "../../src/tools/lib/dns-names.js";
import { startTool, sleepMs, toolSkip } from "../helpers/tool-run.js";
import { requireTool } from "../helpers/build.js";

requireTool("unshare", "util-linux");
requireTool("python3", "python3");
const skip = await toolSkip();

async function listen(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as AddressInfo).port };
}

function run(argv: string[]): Promise<number> {
  const c = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "inherit"] });
  return new Promise((r) => c.on("exit", () => r(c.pid!)));
}

test("tcpconnect -d: the QUERY column is the name the child resolved; BCC's fallbacks otherwise", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbcc-dns-"));
  const name = `tsbcc-dns-test-${process.pid}`;
  writeFileSync(join(dir, "hosts"), `${readFileSync("/etc/hosts", "utf8")}\n127.0.0.2 ${name}\n`);
  const servers = await Promise.all(["127.0.0.2", "127.0.0.1", "127.0.0.3"].map(listen));
  const [named, local, bare] = servers;
  try {
    const t = startTool(connectTool, ["-d", "-P", servers.map((s) => s.port).join(",")]);
    assert.ok(await t.waitFor(/QUERY\n/), t.err());
    assert.equal(t.out(), "PID     COMM         IP SADDR            DADDR            DPORT  QUERY\n");
    const py = (host: string, port: number): string => `import socket; socket.create_connection((${JSON.stringify(host)}, ${port})).close()`;
    const resolver = await run(["unshare", "-m", "sh", "-c",
      `mount --bind ${join(dir, "hosts")} /etc/hosts && exec python3 -c '${py(name, named.port)}'`]);
    const toLocal = await run(["python3", "-c", py("127.0.0.1", local.port)]);
    const toBare = await run(["python3", "-c", py("127.0.0.3", bare.port)]);
    await t.waitFor(new RegExp(`^${toBare} `, "m"));
    await sleepMs(200);
    assert.equal(await t.stop(), 0, t.err());
    const out = t.out();
    assert.match(out, new RegExp(`^${resolver} +python3 +4 +127\\.0\\.0\\.1 +127\\.0\\.0\\.2 +${named.port} +${name}$`, "m"), out);
    assert.match(out, new RegExp(`^${toLocal} +python3 +4 +127\\.0\\.0\\.1 +127\\.0\\.0\\.1 +${local.port} +localhost$`, "m"), out);
    assert.match(out, new RegExp(`^${toBare} +python3 +4 +127\\.0\\.0\\.1 +127\\.0\\.0\\.3 +${bare.port} +No DNS Query$`, "m"), out);
  } finally {
    for (const s of servers) s.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tcpconnect -d as a library: query and its age on the event; -d with -c is a usage error", { skip }, async () => {
  const { server, port } = await listen("127.0.0.1");
  try {
    const stream = await tcpconnect({ dns: true, ports: [port], duration: 30 });
    const pid = await run(["python3", "-c", `import socket, time; a = socket.getaddrinfo("localhost", ${port}, socket.AF_INET); time.sleep(0.15); socket.create_connection(a[0][4]).close()`]);
    let ev;
    for await (const e of stream) if (e.pid === pid) { ev = e; break; }
    assert.ok(ev);
    assert.equal(ev.query, "localhost");
    assert.ok(ev.queryAgeMs! >= 150 && ev.queryAgeMs! < 5000, String(ev.queryAgeMs));
    assert.equal(queryColumn(ev.remoteAddr, ev.query, ev.queryAgeMs), `localhost (${ev.queryAgeMs!.toFixed(3)}ms)`);
  } finally {
    server.close();
  }
  const bad = startTool(connectTool, ["-d", "-c"]);
  assert.equal(await bad.done, 2);
  assert.match(bad.err(), /argument -d\/--dns: not allowed with argument -c\/--count/);
});
