// Where the exporters' HTTP servers listen: `HOST:PORT` parsing, the loopback-only default (metrics and the live
// page show what runs on the machine, so another host sees them only when the user says so), and a listen() that
// turns bind failures into TsbccError.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ArgumentError, ErrorCode, TsbccError } from "../errors.js";
import { checkPort, isLoopback } from "./address.js";

export { isLoopback, parseHostPort } from "./address.js";

export class ListenError extends TsbccError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.LISTEN, message, options);
  }
}

export interface ListenOptions {
  /** Default 127.0.0.1. Anything but a loopback address needs `allowRemote`. */
  host?: string;
  /** Default 0: the kernel picks a free port (read it back from the result). */
  port?: number;
  /** Allow a non-loopback host (the data becomes visible to that network). */
  allowRemote?: boolean;
}

export interface Listening {
  server: Server;
  host: string;
  port: number;
  /** http://host:port (IPv6 hosts in brackets). */
  url: string;
  close(): Promise<void>;
}

/** Checks the options, then starts an HTTP server with `handler`; rejects with ListenError if it cannot bind. */
export async function listen(
  opts: ListenOptions,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Listening> {
  if (opts === null || typeof opts !== "object") throw new ArgumentError("options", "must be an object");
  const host = opts.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") throw new ArgumentError("host", "must be a non-empty string");
  const port = checkPort(opts.port ?? 0, "port");
  if (!isLoopback(host) && opts.allowRemote !== true) {
    throw new ArgumentError("host", `${host} is not a loopback address; pass allowRemote (--allow-remote) to serve other hosts`);
  }
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new ListenError(`cannot listen on ${host}:${port}: ${(e as Error).message}`, { cause: e })));
    server.listen(port, host.replace(/^\[|\]$/g, ""), () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === "object" && addr ? addr.port : port;
  const shown = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return {
    server, host, port: bound, url: `http://${shown}:${bound}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
