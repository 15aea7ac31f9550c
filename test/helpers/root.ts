/** Skips the test (with the reason) unless running as root; returns whether it may run. */
export function skipUnlessRoot(t: { skip(msg: string): void }, needs: string): boolean {
  if (process.getuid?.() !== 0) {
    t.skip(`needs root (${needs})`);
    return false;
  }
  return true;
}
