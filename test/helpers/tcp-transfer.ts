// A TCP transfer of a known size over loopback inside this process (server and client), for tools that count
// TCP bytes per connection: resolves once every byte arrived, with both ports.
import { createServer, connect, type AddressInfo } from "node:net";

export async function loopbackTransfer(bytes: number): Promise<{ serverPort: number; clientPort: number }> {
  let got = 0;
  let done!: () => void;
  const arrived = new Promise<void>((r) => (done = r));
  const server = createServer((s) => s.on("data", (d) => { got += d.length; if (got >= bytes) done(); }));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const serverPort = (server.address() as AddressInfo).port;
  const client = connect(serverPort, "127.0.0.1");
  await new Promise<void>((r) => client.on("connect", r));
  const clientPort = client.localPort!;
  client.write(new Uint8Array(bytes).fill(7));
  await arrived;
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return { serverPort, clientPort };
}
