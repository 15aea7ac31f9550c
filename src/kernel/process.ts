// Whether a process still exists: what the sweeps of leftovers from killed tsbcc processes (tracefs kprobes,
// cls_bpf filters) ask before removing something named after a pid.

/** True while `pid` exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
