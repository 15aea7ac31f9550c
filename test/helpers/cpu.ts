// How much CPU this process burns while it waits: the event readers' tests check that waiting for (or sitting on)
// unread data does not spin the event loop.

/** Microseconds of CPU (user + system) this process used while `work` ran. */
export async function cpuMicrosDuring(work: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/** Microseconds of CPU this process used while idle (timers only) for `ms` milliseconds. */
export const cpuMicrosIdle = (ms: number): Promise<number> => cpuMicrosDuring(() => new Promise((r) => setTimeout(r, ms)));
