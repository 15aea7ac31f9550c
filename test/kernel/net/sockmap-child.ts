// Runs inside a test namespace (`ip netns exec`): a TCP server and client on the namespace's loopback, the
// server's connection put in a SOCKMAP whose stream verdict echoes everything back in the kernel (user space
// never reads on the server side). Prints one JSON line with what the client got back and the program's counts.
import { createServer, connect, type Socket } from "node:net";
import { once } from "node:events";
import { BPF } from "../../../src/api/bpf.js";
import { SOCKMAP_ECHO } from "./programs.js";

const b = await BPF.load({ text: SOCKMAP_ECHO });
b.attachSockmap({ map: "sock_map", hook: "stream_parser", fnName: "echo_parser" });
b.attachSockmap({ map: "sock_map", hook: "stream_verdict", fnName: "echo_verdict" });
b.attachSockmap({ map: "sock_hash", hook: "msg_verdict", fnName: "count_msg" });
const server = createServer({ pauseOnConnect: true });
server.listen(0, "127.0.0.1");
await once(server, "listening");
const port = (server.address() as { port: number }).port;
const accepted = once(server, "connection") as Promise<[Socket]>;
const client = connect(port, "127.0.0.1");
await once(client, "connect");
const [conn] = await accepted;
b.table("sock_map").set(0, conn);
b.table("sock_hash").set(7, client);
const messages = ["hello", "sockmap", "echo"];
let got = "";
client.setEncoding("utf8");
client.on("data", (d: string) => (got += d));
for (const m of messages) {
  client.write(m);
  const want = messages.slice(0, messages.indexOf(m) + 1).join("");
  const deadline = Date.now() + 3000;
  while (got !== want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}
const stats = b.table("stats");
process.stdout.write(`${JSON.stringify({ got, verdictBytes: Number(stats.get(0)), msgBytes: Number(stats.get(1)),
  storageBytes: Number(b.table("sent_by_socket").get(client)), serverStorage: b.table("sent_by_socket").get(conn) ?? null })}\n`);
client.destroy();
conn.destroy();
server.close();
b.close();
