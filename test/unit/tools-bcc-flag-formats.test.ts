// Tier 1: the text of BCC flags added to capable (-x: TID and INSETID columns), sslsniff (--hexdump's hex lines) and
// exitsnoop (a signal without a name), from fixed events (no kernel); the --help of each lists the new flags.
import { test } from "node:test";
import assert from "node:assert/strict";
import { capHeader, formatCapLine, spec as capableSpec, type CapabilityEvent } from "../../src/tools/capable.js";
import { exitDescription, spec as exitsnoopSpec, type ExitEvent } from "../../src/tools/exitsnoop.js";
import { toolUsage } from "../../src/tools/lib/tool.js";
import { formatSslEvent, hexLines, spec as sslsniffSpec, type SslEvent } from "../../src/tools/sslsniff.js";

test("capable -x: TID after PID and INSETID after AUDIT, BCC's widths; VERDICT stays last", () => {
  const ev: CapabilityEvent = { ts: 1n, pid: 300, tid: 301, uid: 0, comm: "perl", cap: 7, capName: "CAP_SETUID", audit: true, insetid: true, verdict: 0 };
  assert.equal(capHeader(true), "TIME      UID    PID    TID    COMM             CAP  NAME                 AUDIT  INSETID VERDICT\n");
  assert.equal(formatCapLine("12:00:01", ev, true), "12:00:01  0      300    301    perl             7    CAP_SETUID           1      1       allow\n");
  assert.equal(capHeader(false), "TIME      UID    PID    COMM             CAP  NAME                 AUDIT  VERDICT\n");
  assert.equal(formatCapLine("12:00:01", { ...ev, insetid: false, verdict: -1 }, false), "12:00:01  0      300    perl             7    CAP_SETUID           1      deny\n");
});

test("sslsniff --hexdump: lowercase hex, 32 digits a line, as BCC wraps it", () => {
  assert.equal(hexLines(""), "");
  assert.equal(hexLines("POST /tsbcc HTTP"), "504f5354202f74736263632048545450");
  assert.equal(hexLines("POST /tsbcc HTTP/1.1\r\n"), "504f5354202f74736263632048545450\n2f312e310d0a");
  const ev: SslEvent = {
    function: "READ/RECV", timeS: 0, pid: 7, tid: 7, uid: 0, comm: "curl", length: 3, data: "\x00\xff\n", truncated: false,
    latencyMs: 0, binary: "/lib/libssl.so.3", library: "openssl",
  };
  assert.equal(formatSslEvent(ev, { hexdump: true }), "READ/RECV    0.000000000        curl             7       3     \n----- DATA -----\n00ff0a\n----- END DATA -----\n\n");
});

test("exitsnoop: a signal number without a name is 'unknown', as in BCC; core dumps are marked", () => {
  const ev: ExitEvent = { ts: 0n, pid: 1, tid: 1, ppid: 0, comm: "x", ageSeconds: 0, signal: 99, coreDumped: false };
  assert.equal(exitDescription(ev), "signal 99 (unknown)");
  assert.equal(exitDescription({ ...ev, signal: 11, coreDumped: true }), "signal 11 (SEGV), core dumped");
  assert.equal(exitDescription({ ...ev, signal: undefined, exitCode: 3 }), "code 3");
});

test("--help lists the added flags: capable --unique/-x, sslsniff -d, exitsnoop -T; --ebpf is accepted but hidden as in BCC", () => {
  const capable = toolUsage(capableSpec);
  assert.match(capable, /^ {2}-x, --extra +show extra fields in TID and INSETID columns$/m);
  assert.match(capable, /^ {2}--unique +don't repeat stacks for the same pid or cgroup$/m);
  assert.match(capable, /^ {4}tsbcc capable --unique +# don't repeat stacks for the same pid or cgroup$/m);
  const ssl = toolUsage(sslsniffSpec);
  assert.match(ssl, /^ {2}-d, --debug +debug mode: print the BPF program \(on stderr\) before starting$/m);
  assert.doesNotMatch(ssl, /--ebpf/);
  const exits = toolUsage(exitsnoopSpec);
  assert.match(exits, /^ {2}-T, --threaded +the same as --per-thread/m);
  assert.doesNotMatch(exits, /--ebpf/);
});
