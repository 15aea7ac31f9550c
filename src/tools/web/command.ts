// `tsbcc web [--host H] [--port N] [--allow-remote] [--interval SECS]`: starts the live page and runs until Ctrl-C.
// Registered with the tools (same spec + main shape), so `tsbcc --help` lists it and options parse the same way.
import { UsageError } from "../lib/errors.js";
import type { CliTool, ToolRun, ToolSpec } from "../lib/tool.js";
import type { ParsedValues } from "../lib/args.js";
import { startLiveView, type FlameSource } from "./server.js";

const spec: ToolSpec = {
  name: "web",
  description: "Live page: run-queue and block I/O latency heat maps, top processes by syscalls, a flame graph",
  options: [
    { name: "host", long: "host", kind: "value", metavar: "HOST", help: "address to listen on (default 127.0.0.1; loopback only unless --allow-remote)" },
    { name: "port", long: "port", kind: "value", metavar: "PORT", parse: "uint", default: 9177, help: "port (default 9177; 0 picks a free one)" },
    { name: "allowRemote", long: "allow-remote", kind: "flag", help: "allow a non-loopback --host (anyone who can reach it sees the machine's activity)" },
    { name: "interval", long: "interval", kind: "value", metavar: "SECS", parse: "number", default: 1, help: "heat map column width in seconds (default 1)" },
  ],
  examples: [
    ["tsbcc web", "serve the live page on http://127.0.0.1:9177/"],
    ["tsbcc web --port 0", "serve it on a free port (printed)"],
  ],
  json: "list",
};

/** Extra inputs the CLI may pass (e.g. the profile tool's sampler as the flame graph source). */
export interface WebExtras {
  flame?: FlameSource;
}

export async function runWeb(values: ParsedValues, run: ToolRun, extras: WebExtras = {}): Promise<number> {
  const port = values.port as number;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("web", `--port ${port} is not 0..65535`);
  const interval = values.interval as number;
  if (!(interval >= 0.1 && interval <= 3600)) throw new UsageError("web", `--interval ${interval} is not 0.1..3600 seconds`);
  const view = await startLiveView({
    host: values.host, port, allowRemote: values.allowRemote === true, intervalMs: Math.round(interval * 1000), flame: extras.flame,
  });
  run.out.write(`tsbcc web: serving ${view.url}/ (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    if (run.signal.aborted) resolve();
    else run.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await view.close();
  return 0;
}

export const tool: CliTool = { spec, main: (values, run) => runWeb(values, run) };
