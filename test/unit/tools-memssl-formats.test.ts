// Tier 1: the text BCC's options add, from fixed events (no kernel): memleak -t's messages, sslsniff's -x/-l columns
// and handshake lines, capable's stack blocks; the command and --extra-lib parsers' errors name what is wrong.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatCapStack } from "../../src/tools/capable.js";
import { UsageError } from "../../src/tools/lib/errors.js";
import { formatTraceEvent } from "../../src/tools/lib/memleak-trace.js";
import { extraLibrary } from "../../src/tools/lib/tls-libraries.js";
import { resolveCommand } from "../../src/tools/lib/traced-command.js";
import { formatSslEvent, type SslEvent } from "../../src/tools/sslsniff.js";

test("memleak -t lines: task, pid, CPU, time, then BCC's message for each kind", () => {
  const base = { timeS: 12.5, pid: 42, tid: 42, cpu: 1, comm: "allocs" };
  assert.equal(formatTraceEvent({ ...base, kind: "alloc-enter", size: 1000, address: "0x0" }),
    "allocs           42      [001] 12.500000: alloc entered, size = 1000\n");
  assert.equal(formatTraceEvent({ ...base, kind: "alloc-exit", size: 1000, address: "0x55d0aa" }).split(": ")[1], "alloc exited, size = 1000, result = 55d0aa\n");
  assert.equal(formatTraceEvent({ ...base, kind: "free", size: 777, address: "0x55d0bb" }).split(": ")[1], "free entered, address = 55d0bb, size = 777\n");
});

test("sslsniff lines: -x adds UID and TID, -l LAT(ms) with 3 decimals (N/A for 0), handshakes have no data block", () => {
  const ev: SslEvent = {
    function: "WRITE/SEND", timeS: 0.5, pid: 7, tid: 8, uid: 1000, comm: "curl", length: 5, data: "hello", truncated: false,
    latencyMs: 0.0421, binary: "/lib/libssl.so.3", library: "openssl",
  };
  assert.equal(formatSslEvent(ev, { extra: true, latency: true }),
    "WRITE/SEND   0.500000000        curl             7       5      1000    8       0.042  \n----- DATA -----\nhello\n----- END DATA -----\n\n");
  assert.equal(formatSslEvent({ ...ev, function: "HANDSHAKE", length: 1, data: "", latencyMs: 0 }, { latency: true }),
    "HANDSHAKE    0.500000000        curl             7       1      N/A    \n");
  assert.match(formatSslEvent({ ...ev, data: "he", truncated: true }, {}), /----- DATA -----\nhe\n----- END DATA \(TRUNCATED, 3 bytes lost\) -----\n\n$/);
});

test("capable stacks: frames indented 8 spaces; a stack that could not be recorded is one 'Missed' line", () => {
  assert.equal(formatCapStack(["cap_capable+0x5 [kernel]", "chown_common+0x1 [kernel]"], false, "Kernel"), "        cap_capable+0x5 [kernel]\n        chown_common+0x1 [kernel]\n");
  assert.equal(formatCapStack([], true, "User"), "    [Missed User Stack]\n");
  assert.equal(formatCapStack(undefined, false, "User"), "");
});

test("memleak -c and sslsniff --extra-lib parsers: usage errors naming the problem", () => {
  assert.deepEqual(resolveCommand("memleak", "true  -x   y").slice(1), ["-x", "y"]);
  assert.match(resolveCommand("memleak", ["sh"])[0]!, /^\//);
  assert.throws(() => resolveCommand("memleak", "tsbcc-no-such-command"), (e: unknown) => e instanceof UsageError && /command not found or not executable: tsbcc-no-such-command/.test(e.message));
  assert.throws(() => resolveCommand("memleak", ""), /command must name a program/);
  assert.throws(() => extraLibrary("sslsniff", "boringssl:/bin/true"), /unknown library kind 'boringssl'/);
  assert.throws(() => extraLibrary("sslsniff", ""), /kind:PATH/);
  assert.throws(() => extraLibrary("sslsniff", "/bin/true"), /\/bin\/true: no SSL_write\/SSL_read in \/bin\/true/);
});
