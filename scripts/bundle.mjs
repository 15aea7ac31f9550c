// Bundles the command line into one file next to the compiled modules: Node's ESM loader costs ~0.7 ms per module
// and the CLI imports ~85 of them, so one file starts ~50 ms faster. The bundle (dist/src/cli/tsbcc-main.cjs) is
// CommonJS so that the command's entry (dist/src/cli/tsbcc.mjs, from src/cli/launch.ts) can run it through V8's
// code cache (src/cli/code-cache.ts: ~15 ms less per start). It sits at the same depth as dist/src/<layer>/ so
// paths to include/ resolve the same way. koffi stays external (native addon).
import { build } from "esbuild";

const common = { bundle: true, platform: "node", format: "esm", target: "node20", external: ["koffi"], logLevel: "warning" };
await build({
  ...common, format: "cjs", entryPoints: ["dist/src/cli/main.js"], outfile: "dist/src/cli/tsbcc-main.cjs",
  // import.meta.url (paths to include/, createRequire) as the CommonJS file's own URL.
  define: { "import.meta.url": "__tsbcc_module_url" },
  // import() as require(): a script restored from V8's code cache has no dynamic-import callback in Node 20.
  supported: { "dynamic-import": false },
  banner: { js: 'var __tsbcc_module_url = require("node:url").pathToFileURL(__filename).href;' },
});
await build({ ...common, entryPoints: ["dist/src/cli/launch.js"], outfile: "dist/src/cli/tsbcc.mjs" });
await build({ ...common, entryPoints: ["dist/bench/startup-child.js"], outfile: "dist/src/cli/startup-bench-child.mjs" });
