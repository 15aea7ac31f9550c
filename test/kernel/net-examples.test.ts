// Tier 2: the networking examples run as their users would run them, inside the test's namespaces (the
// example in one, the traffic from the other), and the figures they print are checked against what was sent.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { haveClang } from "../helpers/build.js";
import { createVethPair, havePing, netnsUnavailable, ping, type VethPair } from "../helpers/netns.js";

const here = dirname(fileURLToPath(import.meta.url));
const examplesDir = join(here, "../../examples");
const skip = !haveClang ? "clang is needed" : netnsUnavailable() ?? (!havePing() ? "ping (iputils-ping) is not installed" : false);
let pair: VethPair;

before(() => {
  if (!skip) pair = createVethPair();
});
after(() => pair?.destroy());

/** Runs an example in `ns`, calls `traffic` once it printed its first line, returns everything it printed. */
async function runExample(ns: string, name: string, args: string[], traffic: () => Promise<void> | void, netOnly = false): Promise<string> {
  const cmd = [process.execPath, join(examplesDir, `${name}.js`), ...args];
  const child = netOnly ? pair.spawnNetOnly(ns, cmd) : pair.spawn(ns, cmd);
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && !out.includes("\n")) await new Promise((r) => setTimeout(r, 25));
  if (!done) await traffic();
  assert.equal(await exited, 0, out);
  return out;
}

/** A Node one-liner in a namespace (server or client), returning its stdout. */
function nodeIn(ns: string, code: string): string {
  return pair.exec(ns, [process.execPath, "--input-type=module", "-e", code]);
}

test("xdp-drop-count: drops and counts exactly the pings sent", { skip }, async () => {
  let received = -1;
  const out = await runExample(pair.nsB, "xdp-drop-count", [pair.devB, "--duration", "3"], () => {
    received = ping(pair, 20);
  });
  assert.equal(received, 0, out);
  assert.match(out, /TOTAL\n(?:.*\n)*icmp\s+20\n/);
  assert.equal(ping(pair, 3), 3, "the device passes traffic again after the example exits");
});

test("tc-ingress-classifier: counts the pings without dropping any", { skip }, async () => {
  let received = -1;
  const out = await runExample(pair.nsB, "tc-ingress-classifier", [pair.devB, "--duration", "3"], () => {
    received = ping(pair, 10);
  });
  assert.equal(received, 10);
  assert.match(out, /^icmp\s+10\s+\d+$/m);
});

test("http-filter: prints the request line and the status line of an HTTP exchange", { skip }, async () => {
  const server = pair.spawn(pair.nsB, [process.execPath, "--input-type=module", "-e",
    `import http from "node:http"; const s = http.createServer((q, r) => { r.end("hi"); }); s.listen(8080, "${pair.ipB}", () => console.log("up")); setTimeout(() => s.close(), 8000).unref(); process.stdin.on("end", () => process.exit(0)); process.stdin.resume();`]);
  try {
    await new Promise((r) => server.stdout!.once("data", r));
    const out = await runExample(pair.nsB, "http-filter", [pair.devB, "--duration", "3"], () => {
      nodeIn(pair.nsA, `import http from "node:http"; http.get("http://${pair.ipB}:8080/hello?x=1", (r) => { r.resume(); r.on("end", () => process.exit(0)); });`);
    });
    assert.match(out, new RegExp(`${pair.ipA.replace(/\./g, "\\.")}:\\d+ -> ${pair.ipB.replace(/\./g, "\\.")}:8080  GET /hello\\?x=1 HTTP/1\\.1`));
    assert.match(out, new RegExp(`${pair.ipB.replace(/\./g, "\\.")}:8080 -> .*  HTTP/1\\.1 200 OK`));
    assert.equal(out.split("\n").filter((l) => l.includes(" -> ")).length, 2, "nothing but the two HTTP packets passed the filter");
  } finally {
    server.stdin!.end();
  }
});

test("sockmap-echo: two clients get their bytes back from the kernel", { skip }, async () => {
  const out = await runExample(pair.nsA, "sockmap-echo", ["--port", "7007", "--duration", "3"], () => {
    const got = nodeIn(pair.nsA, `
import { connect } from "node:net";
const echo = (msg) => new Promise((res) => { const c = connect(7007, "127.0.0.1", () => setTimeout(() => c.write(msg), 100)); let got = "";
  c.setEncoding("utf8"); c.on("data", (d) => { got += d; if (got.length >= msg.length) { c.end(); res(got); } }); });
console.log(JSON.stringify([await echo("first client"), await echo("second")]));`);
    assert.deepEqual(JSON.parse(got), ["first client", "second"]);
  }, true); // nsenter, not `ip netns exec`: the example finds its cgroup v2 directory under /sys.
  assert.match(out, /echoed 18 bytes in the kernel/);
});
