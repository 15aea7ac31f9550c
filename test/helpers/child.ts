// Children started paused on stdin, so a test can attach to a known pid before the child does anything.
import { spawn, type ChildProcess } from "node:child_process";
import { afterEach } from "node:test";

/** Children not yet exited: a test that fails before go() must not leave one holding its file open (a 300 s hang). */
const waiting = new Set<ChildProcess>();

afterEach(() => {
  for (const child of waiting) child.kill("SIGKILL");
  waiting.clear();
});

/** Starts `bin args...` paused on stdin; `go()` releases it and resolves with its exit code. */
export function pausedChild(bin: string, args: string[]): { child: ChildProcess; pid: number; go(): Promise<number> } {
  const child = spawn(bin, args, { stdio: ["pipe", "ignore", "inherit"] });
  if (child.pid === undefined) throw new Error(`cannot start ${bin}`);
  waiting.add(child);
  const exited = new Promise<number>((resolve) => child.on("exit", (code, sig) => {
    waiting.delete(child);
    resolve(code ?? (sig ? 128 : -1));
  }));
  return {
    child,
    pid: child.pid,
    go() {
      child.stdin!.end("x");
      return exited;
    },
  };
}
