// A command a tool runs and traces (BCC's `-c COMMAND`): started through /bin/sh, which stops itself before it
// execs the command, so the tool attaches its pid-filtered probes first and misses none of the command's calls
// (BCC starts the command and attaches afterwards). `release()` lets it run and waits until the command's own
// executable (and the library the tool probes) is mapped, so its stacks symbolize after it exits.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { delimiter, join } from "node:path";
import { defaultSymbolizer } from "../../symbols/index.js";
import { UsageError } from "./errors.js";

export interface TracedCommand {
  /** The pid the command will run as (the same before and after exec). */
  readonly pid: number;
  /** Resolves with the command's exit status (128 + signal number when killed). */
  readonly exited: Promise<number>;
  /** Lets the command run; resolves once it has exec'd and mapped a file named `library` (when given), or after ~2 s. */
  release(library?: string): Promise<void>;
  /** Kills it (when the tool fails to attach, or stops before the command ends). */
  kill(): void;
}

const STOP_THEN_EXEC = 'kill -STOP $$ && exec "$@"';

/** Splits a command line on blanks (as BCC does: no quoting) and finds the executable on PATH. */
export function resolveCommand(tool: string, command: string | readonly string[]): string[] {
  const argv = typeof command === "string" ? command.trim().split(/\s+/).filter(Boolean) : [...command];
  if (argv.length === 0 || argv.some((a) => typeof a !== "string" || a === "")) throw new UsageError(tool, "command must name a program to run");
  const name = argv[0]!;
  const dirs = name.includes("/") ? [""] : (process.env.PATH ?? "/usr/bin:/bin").split(delimiter);
  for (const dir of dirs) {
    const path = dir ? join(dir, name) : name;
    try {
      accessSync(path, constants.X_OK);
      return [realpathSync(path), ...argv.slice(1)];
    } catch { /* next */ }
  }
  throw new UsageError(tool, `command not found or not executable: ${name}`);
}

function state(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts `argv` (from resolveCommand) stopped before its exec; resolves once it is stopped. */
export async function startStopped(tool: string, argv: readonly string[]): Promise<TracedCommand> {
  const child: ChildProcess = spawn("/bin/sh", ["-c", STOP_THEN_EXEC, "sh", ...argv], { stdio: "inherit" });
  if (child.pid === undefined) throw new UsageError(tool, `cannot start ${argv[0]}`);
  const pid = child.pid;
  const exited = new Promise<number>((resolve) => child.on("exit", (code, sig) => resolve(code ?? 128 + (sig ? osConstants.signals[sig] ?? 0 : 0))));
  let done = false;
  void exited.then(() => (done = true));
  for (let i = 0; i < 2000 && state(pid) !== "T"; i++) {
    if (done) throw new UsageError(tool, `${argv[0]} exited before it could be traced`);
    await pause(1);
  }
  return {
    pid,
    exited,
    async release(library?: string) {
      process.kill(pid, "SIGCONT");
      const mapped = (): boolean => {
        try {
          if (readlinkSync(`/proc/${pid}/exe`) !== argv[0]) return false;
          return library === undefined || readFileSync(`/proc/${pid}/maps`, "utf8").includes(`/${library}\n`);
        } catch {
          return true; // gone: nothing more to wait for
        }
      };
      for (let i = 0; i < 2000 && !done && !mapped(); i++) await pause(1);
      // The mappings captured when the probes were attached are the shell's: capture the command's instead.
      defaultSymbolizer().forgetProcess(pid);
      defaultSymbolizer().rememberProcess(pid);
    },
    kill() {
      if (!done) child.kill("SIGKILL");
    },
  };
}
