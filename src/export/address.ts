// Listening addresses as users write them (`HOST:PORT`, `:PORT`, `PORT`, `[::1]:PORT`) and the loopback test
// behind the exporters' loopback-only default. No sockets here: the tools check their options with it at parse time.
import { isIP } from "node:net";
import { ArgumentError } from "../errors.js";

/** True for localhost, 127.0.0.0/8 and ::1. */
export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  const h = host.replace(/^\[|\]$/g, "");
  return h === "::1" || h === "0:0:0:0:0:0:0:1" || h.toLowerCase() === "::ffff:127.0.0.1";
}

/** "HOST:PORT", ":PORT" or "PORT" (host defaults to 127.0.0.1); IPv6 as "[::1]:9100". */
export function parseHostPort(text: string, argument = "address"): { host: string; port: number } {
  if (typeof text !== "string" || text === "") throw new ArgumentError(argument, "expected HOST:PORT");
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m) throw new ArgumentError(argument, `"${text}" is not HOST:PORT`);
  const host = m[1] || m[2] || "127.0.0.1";
  return { host, port: checkPort(Number(m[3]), argument) };
}

export function checkPort(port: number, argument: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ArgumentError(argument, `port ${port} is not 0..65535`);
  return port;
}

