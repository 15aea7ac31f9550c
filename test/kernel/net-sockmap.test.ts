// Tier 2, networking: sk_skb/sk_msg programs on BPF_SOCKMAP/BPF_SOCKHASH (an in-kernel echo between two TCP
// sockets in a test namespace), a socket-local storage map, and the errors around them.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { BPF } from "../../src/api/bpf.js";
import { liveFds } from "../../src/sys/index.js";
import { haveClang } from "../helpers/build.js";
import { createVethPair, netnsUnavailable, type VethPair } from "../helpers/netns.js";
import { SOCKMAP_ECHO } from "./net/programs.js";

const skip = !haveClang ? "clang is needed" : netnsUnavailable() ?? false;
const child = fileURLToPath(new URL("./net/sockmap-child.js", import.meta.url));
let pair: VethPair;

before(() => {
  if (!skip) pair = createVethPair();
});
after(() => pair?.destroy());

test("sockmap stream verdict echoes every message between two local TCP sockets; sk_msg and sk_storage count bytes", { skip }, async () => {
  const out = JSON.parse(pair.exec(pair.nsA, [process.execPath, child]).trim().split("\n").pop()!);
  assert.equal(out.got, "hellosockmapecho", "the client got its messages back without the server reading");
  assert.equal(out.verdictBytes, 16, "the verdict program saw every byte");
  assert.equal(out.msgBytes, 16, "sk_msg saw every byte the client sent");
  assert.equal(out.storageBytes, 16, "the client socket's own storage counted its bytes");
  assert.equal(out.serverStorage, null, "the server socket sent nothing through sk_msg");
});

test("sockmap bad input: unknown map, not a socket map, wrong hook, wrong method in C, attaching twice", { skip }, async () => {
  const fds = liveFds().size;
  const b = await BPF.load({ text: SOCKMAP_ECHO });
  try {
    assert.throws(() => b.attachSockmap({ map: "nope", hook: "msg_verdict", fnName: "count_msg" }), { code: "BAD_ARGUMENT", argument: "map" });
    assert.throws(() => b.attachSockmap({ map: "sock_map", hook: "sideways" as "msg_verdict", fnName: "count_msg" }), { code: "BAD_ARGUMENT", argument: "hook" });
    assert.throws(() => b.attachSockmap({ map: "stats", hook: "stream_verdict", fnName: "echo_verdict" }), { code: "BAD_ARGUMENT", argument: "map", message: /stats is a ARRAY map/ });
    assert.throws(() => b.attachSockmap({ map: "sock_map", hook: "msg_verdict", fn: b.loadFunc("echo_verdict", BPF.SK_SKB) }),
      { code: "BAD_ARGUMENT", message: /SK_SKB program cannot attach to msg_verdict/ });
    b.attachSockmap({ map: "sock_map", hook: "stream_verdict", fnName: "echo_verdict" });
    assert.throws(() => b.attachSockmap({ map: "sock_map", hook: "stream_verdict", fnName: "echo_verdict" }), { code: "ATTACH", message: /already attached/ });
    b.detachSockmap({ map: "sock_map", hook: "stream_verdict" });
    assert.throws(() => b.table("sock_map").set(0, -5), { code: "BAD_ARGUMENT", argument: "socket" });
  } finally {
    b.close();
  }
  assert.equal(liveFds().size, fds);
  await assert.rejects(BPF.load({ text: `BPF_HASH(h, u32, u32);\nint f(struct __sk_buff *skb) { u32 k = 0; return h.sk_redirect_map(skb, k, 0); }` }),
    /sk_redirect_map only available on sockmap maps \(h is hash\)/);
});
