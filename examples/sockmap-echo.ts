// sockmap echo: a TCP echo server whose echoing happens in the kernel. A sock_ops program on this process's
// cgroup (v2) puts every connection accepted on the port into a BPF_SOCKHASH keyed by the client's port, as it
// is established (before its first byte can arrive); an sk_skb stream verdict program redirects whatever a
// connection receives back out of the same connection (bpf_sk_redirect_hash), so user space never reads a byte.
// Observed on 6.18: bytes a client sends in the very instant its connection completes sometimes reach the socket
// before it is in the map; the kernel leaves them queued until more bytes arrive. Clients that wait for the
// connection to settle (the test waits 100 ms) always get their echo.
//
//   node dist/examples/sockmap-echo.js [--port N] [--cgroup CGROUP2_DIR] [--duration SECONDS]
import { readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { once } from "node:events";
import { BPF } from "../src/api/bpf.js";
import { runOptions, untilAborted } from "./lib/run.js";

const args = process.argv.slice(2);
const port = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : 7007;
const cgroup = args.includes("--cgroup") ? args[args.indexOf("--cgroup") + 1]! : ownCgroup();

/** This process's cgroup v2 directory: the cgroup2 mount (mountinfo) plus the "0::" path (/proc/self/cgroup). */
function ownCgroup(): string {
  const mount = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" "))
    .find((f) => f[f.indexOf("-") + 1] === "cgroup2")?.[4];
  const path = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1];
  if (!mount || path === undefined) throw new Error("no cgroup v2 hierarchy is mounted (give --cgroup)");
  return `${mount}${path === "/" ? "" : path}`;
}
const { signal } = runOptions();

const b = await BPF.load({ // The port is compiled in.
  text: `
BPF_SOCKHASH(conns, u32, 1024);
BPF_ARRAY(stats, u64, 1);

int add_connection(struct bpf_sock_ops *skops) {
    if (skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || skops->local_port != ${port}) return 0;
    u32 client_port = bpf_ntohl(skops->remote_port);
    conns.sock_hash_update(skops, &client_port, BPF_NOEXIST);
    return 0;
}

int parse(struct __sk_buff *skb) { return skb->len; }

int echo(struct __sk_buff *skb) {
    /* remote_port holds the port in network order in its upper 16 bits (sock_ops's too). */
    u32 client_port = bpf_ntohl(skb->remote_port);
    stats.atomic_increment(0, skb->len);
    return conns.sk_redirect_hash(skb, &client_port, 0);
}
`,
});

if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write("--port takes a TCP port number\n");
  process.exit(2);
}
const open = new Set<Socket>();
try {
  b.attachSockmap({ map: "conns", hook: "stream_parser", fnName: "parse" });
  b.attachSockmap({ map: "conns", hook: "stream_verdict", fnName: "echo" });
  b.attachCgroup({ cgroup, hook: "sock_ops", fnName: "add_connection" });
  // Paused: user space never reads; the kernel echoes.
  const server = createServer({ pauseOnConnect: true }, (c) => {
    open.add(c);
    c.on("close", () => open.delete(c));
    c.on("error", () => open.delete(c));
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  console.log(`Echoing in the kernel on 127.0.0.1:${port}. Ctrl-C to end.`);
  await untilAborted(signal);
  server.close();
  console.log(`echoed ${b.table("stats").get(0)} bytes in the kernel`);
} finally {
  for (const c of open) c.destroy();
  b.close();
}
