// A child a failed test left waiting on its stdin is killed once the file's tests are done, so that it does not
// keep the test process alive until the runner's timeout.
import { spawn, type ChildProcess } from "node:child_process";
import { after } from "node:test";

const waiting = new Set<ChildProcess>();
after(() => {
  for (const c of waiting) c.kill("SIGKILL");
});

/** Kills `child` when the file's tests end unless it has exited by then; resolves with its exit code. */
export function killedAfterFile(child: ChildProcess): Promise<number> {
  waiting.add(child);
  return new Promise<number>((resolve) => child.on("exit", (code, sig) => {
    waiting.delete(child);
    resolve(code ?? (sig ? 128 : -1));
  }));
}

/** Starts `bin args...` paused on stdin; `go()` releases it and resolves with its exit code. */
export function pausedChild(bin: string, args: string[]): { child: ChildProcess; pid: number; go(): Promise<number> } {
  const child = spawn(bin, args, { stdio: ["pipe", "ignore", "inherit"] });
  if (child.pid === undefined) throw new Error(`cannot start ${bin}`);
  const exited = killedAfterFile(child);
  return {
    child,
    pid: child.pid,
    go() {
      child.stdin!.end("x");
      return exited;
    },
  };
}
