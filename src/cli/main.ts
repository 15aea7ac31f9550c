#!/usr/bin/env node
// tsbcc command line: `tsbcc <tool> [args]`, `tsbcc list`.
import { tools } from "../tools/index.js";
import { UsageError } from "../tools/common.js";

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "list") {
    process.stdout.write(`usage: tsbcc <tool> [options]\n\ntools:\n${Object.keys(tools).sort().map((t) => `  ${t}`).join("\n")}\n`);
    return name ? 0 : 1;
  }
  const load = tools[name];
  if (!load) {
    process.stderr.write(`tsbcc: unknown tool "${name}" (tsbcc list shows them)\n`);
    return 2;
  }
  const tool = await load();
  const ac = new AbortController();
  // First Ctrl-C asks the tool to finish (print its summary, detach); a second one exits at once.
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(128 + (sig === "SIGINT" ? 2 : 15));
    ac.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await tool.run(rest, { out: process.stdout, err: process.stderr, signal: ac.signal });
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tsbcc ${name}: ${e.message}\n${tool.usage}\n`);
      return 2;
    }
    process.stderr.write(`tsbcc ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
