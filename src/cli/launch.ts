#!/usr/bin/env node
// The `tsbcc` command (bundled to dist/src/cli/tsbcc.mjs): runs the bundled command line beside it through V8's
// code cache (code-cache.ts).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCached } from "./code-cache.js";

runCached(join(dirname(fileURLToPath(import.meta.url)), "tsbcc-main.cjs"));
