#!/usr/bin/env node
// tsbcc command line: `tsbcc <tool> [args]`, `tsbcc --help` (every tool with its one-line description).
import { findTool, toolList } from "../tools/lib/registry.js";
import { runTool } from "../tools/lib/tool.js";

const USAGE = `usage: tsbcc <tool> [options]     (tsbcc <tool> --help for a tool's options)

BCC's tools on tsbcc: BCC's flags, headers and columns; every tool also takes --json and -v.

tools:
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "list") {
    (name ? process.stdout : process.stderr).write(`${USAGE}${toolList()}\n`);
    return name ? 0 : 2;
  }
  const tool = findTool(name);
  if (!tool) {
    process.stderr.write(`tsbcc: unknown tool "${name}" (tsbcc --help lists them)\n`);
    return 2;
  }
  const ac = new AbortController();
  // First Ctrl-C asks the tool to finish (print its summary, detach); a second one exits at once.
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) process.exit(128 + (sig === "SIGINT" ? 2 : 15));
    ac.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A closed pipe (tsbcc opensnoop | head) ends the tool like Ctrl-C, without a stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    ac.abort();
  });
  return runTool(tool, rest, { out: process.stdout, err: process.stderr, signal: ac.signal });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
