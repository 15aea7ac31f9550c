// The tool registry: name -> module. Each tool exports `usage` and `run(argv, ctx)`.
import type { ToolContext } from "./common.js";

export interface Tool {
  usage: string;
  run(argv: string[], ctx: ToolContext): Promise<number>;
}

export const tools: Record<string, () => Promise<Tool>> = {
  execsnoop: () => import("./execsnoop.js"),
};
