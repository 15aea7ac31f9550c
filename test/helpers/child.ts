import { spawn, type ChildProcess } from "node:child_process";

/** Starts `bin args...` paused on stdin; `go()` releases it and resolves with its exit code. */
export function pausedChild(bin: string, args: string[]): { child: ChildProcess; pid: number; go(): Promise<number> } {
  const child = spawn(bin, args, { stdio: ["pipe", "ignore", "inherit"] });
  if (child.pid === undefined) throw new Error(`cannot start ${bin}`);
  const exited = new Promise<number>((resolve) => child.on("exit", (code, sig) => resolve(code ?? (sig ? 128 : -1))));
  return {
    child,
    pid: child.pid,
    go() {
      child.stdin!.end("x");
      return exited;
    },
  };
}
