// Tier 2: sslsniff's other TLS libraries and timing options, each against a real client talking to a local node
// HTTPS server (self-signed certificate; node's own OpenSSL is not probed without -p): curl (libssl) with
// -l --handshake shows a HANDSHAKE line and a positive LAT(ms) on every line; gnutls-cli (GnuTLS) and tstclnt (NSS)
// show the request they send and the reply, with its secret, in plaintext. Wrong input is a usage error (exit 2).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "../../src/tools/sslsniff.js";
import { sslsniff } from "../../src/tools/index.js";
import { UsageError } from "../../src/tools/lib/errors.js";
import { hasTool } from "../helpers/build.js";
import { startTool, toolSkip } from "../helpers/tool-run.js";

const skip = (await toolSkip()) || (!hasTool("openssl") && "openssl is needed for the test certificate");
const SECRET = "tsbcc-tls-7373";
let dir = "";
let server: ChildProcess | undefined;
let port = 0;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "tsbcc-ssl-libs-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
  const script = `const https = require("https"), fs = require("fs");
const srv = https.createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) }, (req, res) => {
  req.resume(); req.on("end", () => res.end("tsbcc-reply:" + req.url + ":${SECRET}")); });
srv.listen(0, "127.0.0.1", () => console.log(srv.address().port));`;
  server = spawn(process.execPath, ["-e", script, join(dir, "k.pem"), join(dir, "c.pem")], { stdio: ["ignore", "pipe", "inherit"] });
  port = await new Promise<number>((resolve) => server!.stdout!.once("data", (d) => resolve(Number(String(d).trim()))));
});
after(() => {
  server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs a client with `input` on stdin; resolves with its exit code. */
function client(bin: string, args: string[], input = ""): Promise<number> {
  return new Promise((resolve) => {
    const c = execFile(bin, args, { timeout: 15000 }, (e) => resolve(e ? Number((e as { code?: number }).code ?? 1) : 0));
    c.stdin!.end(input);
  });
}

test("sslsniff -l --handshake -c curl: HANDSHAKE, request and reply lines each with a positive LAT(ms)", { skip: skip || (!hasTool("curl") && "curl is needed") }, async () => {
  const t = startTool(tool, ["-l", "--handshake", "-c", "curl"]);
  assert.ok(await t.waitFor(/^FUNC {9}TIME\(s\) {12}COMM {13}PID {5}LEN {4}LAT\(ms\)\n/), t.err());
  assert.equal(await client("curl", ["-sk", "--http1.1", "-o", "/dev/null", `https://127.0.0.1:${port}/tsbcc-curl`, "-d", "hello"]), 0);
  assert.ok(await t.waitFor(new RegExp(`tsbcc-reply:/tsbcc-curl:${SECRET}\\n----- END DATA -----`), 8000), t.out());
  assert.equal(await t.stop(), 0);
  const lines = [...t.out().matchAll(/^(HANDSHAKE|WRITE\/SEND|READ\/RECV) +[\d.]+ +curl +(\d+) +(\d+) +(\S+) *$/gm)];
  const hs = lines.filter((l) => l[1] === "HANDSHAKE");
  assert.ok(hs.length >= 1, t.out());
  assert.equal(hs[0]![3], "1", "SSL_do_handshake returned 1");
  assert.ok(lines.some((l) => l[1] === "WRITE/SEND") && lines.some((l) => l[1] === "READ/RECV"), t.out());
  for (const l of lines) assert.ok(Number(l[4]) > 0, `latency of ${l[0]}`);
  assert.match(t.out(), /^HANDSHAKE .*\n(?!-----)/m, "no data block under a handshake");
});

test("sslsniff GnuTLS: gnutls-cli's request and the reply in plaintext, library gnutls", { skip: skip || (!hasTool("gnutls-cli") && "gnutls-cli (gnutls-bin) is needed") }, async () => {
  const stream = await sslsniff({ comm: "gnutls-cli", noOpenssl: true, noNss: true, duration: 30 });
  assert.ok(stream.source.targets.some((t) => /libgnutls\.so[.\d]*:gnutls_record_send$/.test(t)), stream.source.targets.join(" "));
  const request = "GET /tsbcc-gnutls HTTP/1.0\r\n\r\n";
  const code = client("gnutls-cli", ["--insecure", "-p", String(port), "127.0.0.1"], request);
  const seen = [];
  for await (const ev of stream) {
    seen.push(ev);
    if (ev.function === "READ/RECV" && ev.data.includes(SECRET)) break;
  }
  stream.close();
  assert.equal(await code, 0);
  const w = seen.find((e) => e.function === "WRITE/SEND");
  assert.deepEqual([w?.data, w?.length, w?.library], [request, request.length, "gnutls"], JSON.stringify(seen));
  const r = seen.at(-1)!;
  assert.ok(r.data.startsWith("HTTP/1.1 200 OK") && r.data.endsWith(`tsbcc-reply:/tsbcc-gnutls:${SECRET}`), r.data);
  assert.ok(seen.every((e) => e.latencyMs > 0 && e.comm === "gnutls-cli"));
});

test("sslsniff NSS: tstclnt's request and the reply in plaintext (PR_Write/PR_Read), library nss", { skip: skip || (!hasTool("tstclnt") && "tstclnt (libnss3-tools) is needed") }, async () => {
  const db = join(dir, "nssdb");
  mkdirSync(db);
  execFileSync("certutil", ["-N", "-d", `sql:${db}`, "--empty-password"], { stdio: "ignore" });
  const t = startTool(tool, ["--no-openssl", "--no-gnutls", "-c", "tstclnt"]);
  assert.ok(await t.waitFor(/^FUNC/), t.err());
  const request = "GET /tsbcc-nss HTTP/1.0\r\n\r\n";
  assert.equal(await client("tstclnt", ["-h", "127.0.0.1", "-p", String(port), "-o", "-d", `sql:${db}`], request), 0);
  assert.ok(await t.waitFor(new RegExp(`^READ/RECV .*\\n----- DATA -----\\nHTTP/1.1 200 OK[^]*tsbcc-reply:/tsbcc-nss:${SECRET}\\n----- END DATA -----`, "m"), 8000), t.out());
  assert.equal(await t.stop(), 0);
  // NSPR's PR_Write also carries the request to the TLS socket (and tstclnt's copy of the reply to stdout).
  assert.match(t.out(), /^WRITE\/SEND +[\d.]+ +tstclnt +\d+ +27 *\n----- DATA -----\nGET \/tsbcc-nss HTTP\/1.0\r\n\r\n\n----- END DATA -----/m);
});

test("sslsniff: wrong input for the new options is a usage error (exit 2)", { skip }, async () => {
  const cases: [string[], RegExp][] = [
    [["--handshake"], /--handshake needs -l\/--latency/],
    [["--extra-lib", "gnutls:/bin/true"], /gnutls:\/bin\/true: no gnutls_record_send\/gnutls_record_recv in \/bin\/true/],
    [["--extra-lib", "wolfssl:/bin/true"], /unknown library kind 'wolfssl'/],
    [["-u", "-3"], /-u\/--uid/],
  ];
  for (const [argv, re] of cases) {
    const t = startTool(tool, argv);
    assert.equal(await t.done, 2, argv.join(" "));
    assert.match(t.err(), re, argv.join(" "));
  }
  await assert.rejects(sslsniff({ uid: -1 }), (e: unknown) => e instanceof UsageError && /uid must be/.test(e.message));
  await assert.rejects(sslsniff({ extraLibs: ["nss:/bin/true"] }), /no PR_Write\/PR_Send\/PR_Read\/PR_Recv/);
});
