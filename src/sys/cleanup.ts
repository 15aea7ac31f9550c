// Process-wide cleanup: whatever is attached gets detached on normal exit, SIGINT, SIGTERM and uncaught
// errors. Most attachments (perf-event PMU probes, BPF links) die with their fds anyway; this matters for the
// few that live in tracefs and for closing readers cleanly.

export interface Closable {
  close(): void;
}

const open = new Set<Closable>();
let installed = false;

function closeAll(): void {
  for (const c of [...open].reverse()) {
    try {
      c.close();
    } catch {
      // Best effort: we are tearing down.
    }
  }
  open.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Counted before closing: closing the last object uninstalls this handler, which would hide one listener.
  const others = process.listenerCount(signal) - (installed ? 1 : 0);
  closeAll();
  // If the application listens for this signal it decides when to exit; otherwise behave like the default
  // action: re-raise with our handler removed so the exit status says "killed by signal".
  if (others <= 0) {
    uninstall();
    process.kill(process.pid, signal);
  }
}

const handlers = {
  exit: () => closeAll(),
  SIGINT: () => onSignal("SIGINT"),
  SIGTERM: () => onSignal("SIGTERM"),
};

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", handlers.exit);
  process.on("SIGINT", handlers.SIGINT);
  process.on("SIGTERM", handlers.SIGTERM);
  process.on("uncaughtExceptionMonitor", handlers.exit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off("exit", handlers.exit);
  process.off("SIGINT", handlers.SIGINT);
  process.off("SIGTERM", handlers.SIGTERM);
  process.off("uncaughtExceptionMonitor", handlers.exit);
}

/** Registers something to close at process teardown; returns a function that unregisters it. */
export function closeAtExit(c: Closable): () => void {
  open.add(c);
  install();
  return () => {
    open.delete(c);
    if (open.size === 0) uninstall();
  };
}
