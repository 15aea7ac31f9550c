// The VM tier's entry point (`npm run test:vm`): prepares the guest, then runs every test under
// dist/test/vm/guest/ inside ONE boot of a Debian kernel, and exits with the guest test runner's status.
// Skips (exit 0) only when the infrastructure genuinely cannot be had: no qemu or kernel package obtainable.
import { existsSync, readdirSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { prepareVm, repoRoot, runInVm, VmHarnessError } from "./vm.js";

// CI gives the whole tier about 15 minutes; the guest tests get 12 of them, boot and shutdown the rest.
const GUEST_TESTS_TIMEOUT_MS = 12 * 60_000;
const GUEST_DIR = "dist/test/vm/guest";

function findGuestTests(root: string): string[] {
  const dir = join(root, GUEST_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => /\.test\.(c|m)?js$/.test(f))
    .sort()
    .map((f) => `${GUEST_DIR}/${f}`);
}

async function main(): Promise<number> {
  const root = repoRoot();
  const guestTests = findGuestTests(root);
  if (guestTests.length === 0) {
    console.error(`VM tier: no compiled guest tests in ${GUEST_DIR}/ (run \`npx tsc -p tsconfig.json\` first)`);
    return 1;
  }

  const prepared = await prepareVm(process.stderr);
  if (!prepared.ok) {
    if (prepared.unavailable) {
      console.log(`VM tier skipped: ${prepared.reason}`);
      return 0;
    }
    console.error(`VM tier: ${prepared.reason}`);
    return 1;
  }

  // Files listed one by one: newer Node versions read a bare directory argument as a file name, not a folder to scan.
  const command = ["node", "--test", "--test-concurrency=1", "--test-timeout=300000", "--test-reporter=spec", ...guestTests];
  console.error(`[vm-tier] ${guestTests.length} guest test file(s); booting the guest once for all of them`);
  try {
    const result = await runInVm(command, {
      cwd: root,
      env: { TSBCC_VM_HOST_RELEASE: release() },
      timeoutMs: GUEST_TESTS_TIMEOUT_MS,
      echo: process.stdout,
    });
    const t = result.timings;
    console.error(
      `[vm-tier] guest test runner exit ${result.code}; boot-to-command ${t.bootToCommandS.toFixed(1)} s, ` +
        `tests ${t.commandS.toFixed(1)} s, total ${(t.totalMs / 1000).toFixed(1)} s`,
    );
    return result.code;
  } catch (err) {
    if (err instanceof VmHarnessError) {
      console.error(`VM tier failed: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main();
