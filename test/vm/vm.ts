// Runs commands inside the VM tier's qemu guest (a Debian kernel with kprobes, fentry, BPF LSM and BTF) by driving
// scripts/vm/prepare.sh and scripts/vm/run.sh. The guest sees the host's files (read-only underneath, writable
// through an in-memory overlay), so a command like `node dist/...` runs the code built on the host.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { fileURLToPath } from "node:url";

export interface VmRunOptions {
  /** The command's own limit inside the guest (default 10 minutes). Boot and power-off get 2 minutes more. */
  timeoutMs?: number;
  /** Extra environment for the command (the guest starts it with a clean environment plus these). */
  env?: Record<string, string>;
  /** Working directory in the guest; any host path works (default: process.cwd()). */
  cwd?: string;
  /** Where to copy the console as it arrives (e.g. process.stdout); nothing is copied by default. */
  echo?: NodeJS.WritableStream;
  /** Show the kernel's boot messages on the console. */
  verbose?: boolean;
}

export interface VmRunResult {
  /** The command's exit status inside the guest (124 when it ran out of time there). */
  code: number;
  /** The command's standard output alone. */
  stdout: string;
  /** Everything the guest console printed (command stdout and stderr, init messages) plus the harness's lines. */
  output: string;
  /** Guest clock (seconds since the kernel started) when the command started and how long it ran; wall time. */
  timings: { bootToCommandS: number; commandS: number; totalMs: number };
}

/** The VM did not run the command to the end: boot failure, whole-VM timeout, qemu crash. */
export class VmHarnessError extends Error {
  override name = "VmHarnessError";
}

/** Exit code of prepare.sh meaning "qemu or the kernel cannot be had on this machine" (sysexits' EX_UNAVAILABLE). */
export const EX_UNAVAILABLE = 69;

export function repoRoot(): string {
  // Compiled to dist/test/vm/vm.js: the repository is three levels up.
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  if (!existsSync(join(root, "scripts/vm/run.sh"))) throw new Error(`scripts/vm/run.sh not found under ${root}`);
  return root;
}

// Every VM runs in its own process group so that a timeout (or our own exit) can end qemu, not only the script.
const running = new Set<ChildProcess>();
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
process.once("exit", () => {
  for (const child of running) killGroup(child);
});

interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

function runScript(script: string, args: string[], echo: NodeJS.WritableStream | undefined, killAfterMs: number): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script, ...args], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    const chunks: string[] = [];
    // The serial console delivers a few bytes at a time: decode per stream so that a UTF-8 character split across
    // two reads survives, and drop the CR of its CR LF line ends (a CR may arrive in one read, its LF in the next).
    const reader = (stream: NodeJS.ReadableStream): void => {
      const decoder = new StringDecoder("utf8");
      const take = (text: string): void => {
        const clean = text.replace(/\r/g, "");
        if (clean === "") return;
        chunks.push(clean);
        echo?.write(clean);
      };
      stream.on("data", (data: Buffer) => take(decoder.write(data)));
      stream.on("end", () => take(decoder.end()));
    };
    reader(child.stdout!);
    reader(child.stderr!);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, killAfterMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, output: chunks.join(""), timedOut });
    });
  });
}

export type PrepareResult = { ok: true; output: string } | { ok: false; unavailable: boolean; reason: string; output: string };

/** Runs scripts/vm/prepare.sh (idempotent; the first run downloads a ~70 MB kernel package). */
export async function prepareVm(echo?: NodeJS.WritableStream): Promise<PrepareResult> {
  const root = repoRoot();
  const r = await runScript(join(root, "scripts/vm/prepare.sh"), [], echo, 20 * 60_000);
  if (r.code === 0) return { ok: true, output: r.output };
  const said = /VM-UNAVAILABLE: (.*)/.exec(r.output);
  if (r.code === EX_UNAVAILABLE && said) return { ok: false, unavailable: true, reason: said[1]!, output: r.output };
  const why = r.timedOut ? "timed out after 20 minutes" : `exit ${r.code ?? r.signal}`;
  return { ok: false, unavailable: false, reason: `prepare.sh failed (${why})`, output: r.output };
}

function readText(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/** Boots a fresh guest, runs `command` (argv, no shell) in it, and returns its exit status and output. */
export async function runInVm(command: string[], opts: VmRunOptions = {}): Promise<VmRunResult> {
  if (command.length === 0) throw new Error("runInVm: empty command");
  const root = repoRoot();
  const timeoutS = Math.max(1, Math.ceil((opts.timeoutMs ?? 600_000) / 1000));
  const results = mkdtempSync(join(tmpdir(), "tsbcc-vm-"));
  const args = ["--cwd", opts.cwd ?? process.cwd(), "--timeout", String(timeoutS), "--results", results];
  for (const [name, value] of Object.entries(opts.env ?? {})) args.push("--env", `${name}=${value}`);
  if (opts.verbose) args.push("--verbose");
  args.push("--", ...command);

  const started = Date.now();
  try {
    // run.sh ends the VM itself (command limit + 120 s); this is the backstop should run.sh itself hang.
    const r = await runScript(join(root, "scripts/vm/run.sh"), args, opts.echo, (timeoutS + 180) * 1000);
    const totalMs = Date.now() - started;
    const exitCode = readText(join(results, "exit-code"));
    if (exitCode === undefined) {
      const initError = readText(join(results, "init-error"))?.trim();
      const reason = r.timedOut
        ? `the VM was killed after ${timeoutS + 180} s`
        : initError
          ? `guest init failed: ${initError}`
          : r.code === 124
            ? `the VM ran out of time (${timeoutS} s for the command + boot allowance)`
            : `the guest reported no exit status (run.sh exit ${r.code ?? r.signal})`;
      const tail = r.output.trimEnd().split("\n").slice(-30).join("\n");
      throw new VmHarnessError(`runInVm ${JSON.stringify(command)}: ${reason}\n--- console tail ---\n${tail}`);
    }
    const start = Number(readText(join(results, "uptime-start")) ?? NaN);
    const end = Number(readText(join(results, "uptime-end")) ?? NaN);
    return {
      code: Number(exitCode.trim()),
      stdout: readText(join(results, "stdout")) ?? "",
      output: r.output,
      timings: { bootToCommandS: start, commandS: end - start, totalMs },
    };
  } finally {
    if (!process.env.TSBCC_VM_KEEP_RESULTS) rmSync(results, { recursive: true, force: true });
  }
}
