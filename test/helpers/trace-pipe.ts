// The global trace_pipe for tests that read it: the kernel admits one reader at a time, and another program on the
// machine (another test run, a BCC tool, an example) may hold it for a while. Waiting for it, then skipping with
// the holder's name, keeps such a test from failing on EBUSY while still failing on anything else.
import { traceOpen } from "../../src/api/tracepipe.js";

/**
 * Opens the process-wide reader of the global trace_pipe (kept until traceClose, so later traceFields/tracePrint
 * calls use it). Retries for up to `ms` while it is busy; resolves with why not when it stays busy.
 */
export async function openGlobalTracePipe(ms = 30_000): Promise<string | undefined> {
  let holder = "";
  for (const end = Date.now() + ms; Date.now() < end;) {
    try {
      await traceOpen();
      return undefined;
    } catch (e) {
      if ((e as { errnoCode?: string }).errnoCode !== "EBUSY") throw e;
      holder = (e as Error).message;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return `the global trace_pipe stayed busy for ${ms / 1000} s: ${holder}`;
}
