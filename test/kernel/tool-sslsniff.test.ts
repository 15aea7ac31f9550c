// Tier 2: sslsniff -p on a node child that POSTs "tsbcc-secret-4242" over HTTPS to its own local server (self-signed
// certificate): node's statically linked OpenSSL (found in /proc/PID/exe) shows the request written and read in
// plaintext and the reply written, with exact lengths; the library's events carry the same; wrong input fails.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/sslsniff.js";
import { sslsniff } from "../../src/tools/index.js";
import { hasTool } from "../helpers/build.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = (await toolSkip()) || (!hasTool("openssl") && "openssl is needed for the test certificate");
let dir = "";
before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "tsbcc-ssl-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const SECRET = "tsbcc-secret-4242";
const SCRIPT = `const https = require("https"), fs = require("fs");
const key = fs.readFileSync(process.argv[1]), cert = fs.readFileSync(process.argv[2]);
process.stdin.once("data", () => {
  const srv = https.createServer({ key, cert }, (req, res) => { let b = ""; req.on("data", (d) => (b += d)); req.on("end", () => res.end("tsbcc-reply:" + b)); });
  srv.listen(0, "127.0.0.1", () => {
    const r = https.request({ host: "127.0.0.1", port: srv.address().port, method: "POST", path: "/tsbcc", rejectUnauthorized: false, agent: false },
      (res) => { res.resume(); res.on("end", () => { srv.close(); process.exit(0); }); });
    r.end(${JSON.stringify(SECRET)});
  });
});`;

function httpsChild(): { pid: number; go(): Promise<number> } {
  const c = spawn(process.execPath, ["-e", SCRIPT, join(dir, "k.pem"), join(dir, "c.pem")], { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<number>((r) => c.on("exit", (code) => r(code ?? -1)));
  return { pid: c.pid!, go: () => { c.stdin!.write("x"); return exited; } };
}

test("sslsniff -p PID: node's built-in OpenSSL, the request and reply in plaintext, BCC's layout", { skip }, async () => {
  const child = httpsChild();
  await new Promise((r) => setTimeout(r, 300)); // the executable is mapped
  const t = startTool(tool, ["-p", String(child.pid)]);
  assert.ok(await t.waitFor(/^FUNC {9}TIME\(s\) {12}COMM {13}PID {5}LEN {3}\n/), t.err());
  assert.equal(await child.go(), 0);
  assert.ok(await t.waitFor(/tsbcc-reply:tsbcc-secret-4242\n----- END DATA -----\n/, 5000), t.out());
  assert.equal(await t.stop(), 0);
  const blocks = [...t.out().matchAll(/^(WRITE\/SEND|READ\/RECV) +[\d.]+ +node +(\d+) +(\d+) *\n----- DATA -----\n([\s\S]*?)\n----- END DATA -----\n/gm)];
  const request = blocks.filter((b) => b[4].startsWith("POST /tsbcc HTTP/1.1\r\n") && b[4].endsWith(`\r\n\r\n${SECRET}`));
  assert.deepEqual(request.map((b) => b[1]).sort(), ["READ/RECV", "WRITE/SEND"], t.out());
  for (const b of request) {
    assert.equal(Number(b[2]), child.pid);
    assert.equal(Number(b[3]), Buffer.byteLength(b[4]), "LEN is the bytes the call moved");
  }
  assert.ok(blocks.some((b) => b[1] === "WRITE/SEND" && b[4].startsWith("HTTP/1.1 200 OK") && b[4].endsWith(`tsbcc-reply:${SECRET}`)));
});

test("sslsniff as a library: events with the binary probed; wrong input", { skip }, async () => {
  const child = httpsChild();
  await new Promise((r) => setTimeout(r, 300));
  const stream = await sslsniff({ pid: child.pid, noOpenssl: true, noGnutls: true, noNss: true, maxBufferSize: 16 });
  assert.deepEqual(stream.source.targets, [`/proc/${child.pid}/exe:SSL_write`, `/proc/${child.pid}/exe:SSL_read`]);
  await child.go();
  const seen = [];
  for await (const ev of stream) {
    seen.push(ev);
    if (seen.length === 3) stream.close();
  }
  const w = seen.find((e) => e.function === "WRITE/SEND" && e.data.startsWith("POST /tsbcc"));
  assert.ok(w, JSON.stringify(seen));
  assert.equal(w.data, "POST /tsbcc HTTP");
  assert.ok(w.truncated && w.length > 16);
  await assert.rejects(sslsniff({ maxBufferSize: 0 }), /maxBufferSize/);
  await assert.rejects(sslsniff({ extraLibs: ["openssl:/bin/true"] }), /no SSL_write\/SSL_read/);
});

test("sslsniff -d --hexdump --max-buffer-size 16: the program on stderr, then BCC's hex lines and truncation mark", { skip }, async () => {
  const child = httpsChild();
  await new Promise((r) => setTimeout(r, 300));
  const t = startTool(tool, ["-d", "--hexdump", "--max-buffer-size", "16", "-p", String(child.pid), "-o", "-g", "-n"]);
  assert.ok(await t.waitFor(/^FUNC /), t.err());
  // The program probes the pid's own executable (binary 0) and filters by its pid.
  assert.match(t.err(), /^int write_enter_0\(struct pt_regs \*ctx\) \{$/m);
  assert.match(t.err(), /^int read_return_0\(struct pt_regs \*ctx\) \{$/m);
  assert.ok(t.err().includes(`(id >> 32) != ${child.pid}`), t.err());
  assert.equal(await child.go(), 0);
  // "POST /tsbcc HTTP" is 16 bytes: one line of 32 hex digits; LEN - 16 bytes are reported lost.
  const m = await t.waitFor(/^WRITE\/SEND +[\d.]+ +node +\d+ +(\d+) *\n----- DATA -----\n504f5354202f74736263632048545450\n----- END DATA \(TRUNCATED, (\d+) bytes lost\) -----\n\n/m, 5000);
  assert.equal(await t.stop(), 0);
  assert.ok(m, t.out());
  assert.equal(Number(m[2]), Number(m[1]) - 16);
});

test("sslsniff --ebpf prints the program and exits without tracing; -d/--ebpf wrong input is a usage error", { skip }, async () => {
  const child = httpsChild();
  await new Promise((r) => setTimeout(r, 300));
  const t = startTool(tool, ["--ebpf", "-p", String(child.pid), "-o", "-g", "-n", "--max-buffer-size", "100"]);
  assert.equal(await t.done, 0);
  assert.equal(t.err(), "");
  assert.match(t.out(), /^\nstruct ssl_event_t \{\n/);
  assert.match(t.out(), /if \(n > 100\) n = 100;/);
  assert.deepEqual([...t.out().matchAll(/^int (\w+)\(struct pt_regs \*ctx\) \{$/gm)].map((x) => x[1]), ["write_enter_0", "write_return_0", "read_enter_0", "read_return_0"]);
  assert.equal(await child.go(), 0);
  const bad = startTool(tool, ["--debug=2"]);
  assert.equal(await bad.done, 2);
  assert.match(bad.err(), /argument -d\/--debug: ignored explicit argument '2'/);
  const none = startTool(tool, ["--ebpf", "-o", "-g", "-n"]);
  assert.equal(await none.done, 2);
  assert.match(none.err(), /error: no TLS library found to probe/);
  assert.equal(none.out(), "");
});
