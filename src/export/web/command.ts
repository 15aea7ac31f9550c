// `tsbcc web [--host H] [--port N] [--allow-remote] [--interval SECS]`: starts the live page and runs until Ctrl-C.
// Registered in the CLI's tool table like a tool (it has the same `usage` + `run(argv, ctx)` shape).
import { parseArgs, UsageError, type ToolContext } from "../../tools/common.js";
import { startLiveView, type FlameSource } from "./server.js";

export const usage = `usage: tsbcc web [--host HOST] [--port PORT] [--allow-remote] [--interval SECS]

Serves a live page: run queue and block I/O latency heat maps, top processes by
syscalls, and a refreshing flame graph when a stack source is available.

options:
  --host HOST      address to listen on (default 127.0.0.1; loopback only unless --allow-remote)
  --port PORT      port (default 9177; 0 picks a free one)
  --allow-remote   allow a non-loopback --host (anyone who can reach it sees the machine's activity)
  --interval SECS  heat map column width (default 1)`;

/** Extra inputs the CLI may pass (e.g. the profile tool's sampler as the flame graph source). */
export interface WebExtras {
  flame?: FlameSource;
}

export async function run(argv: string[], ctx: ToolContext, extras: WebExtras = {}): Promise<number> {
  const args = parseArgs(argv, {
    flags: { "allow-remote": "allow-remote" },
    options: { host: "host", port: "port", interval: "interval" },
  });
  if (args.help) {
    ctx.out.write(`${usage}\n`);
    return 0;
  }
  if (args.positional.length) throw new UsageError(`unexpected argument ${args.positional[0]}`);
  const port = Number(args.options.port ?? 9177);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${args.options.port} is not 0..65535`);
  const interval = Number(args.options.interval ?? 1);
  if (!(interval >= 0.1 && interval <= 3600)) throw new UsageError(`--interval ${args.options.interval} is not 0.1..3600 seconds`);
  const view = await startLiveView({
    host: args.options.host, port, allowRemote: args.flags["allow-remote"] === true,
    intervalMs: Math.round(interval * 1000), flame: extras.flame,
  });
  ctx.out.write(`tsbcc web: serving ${view.url}/ (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await view.close();
  return 0;
}
