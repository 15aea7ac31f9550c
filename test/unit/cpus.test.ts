import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as os from "node:os";
import { numPossibleCpus, onlineCpus, parseCpuList, possibleCpus } from "../../src/kernel/cpus.js";
import { kernelRelease, kernelVersionCode, linuxVersionCode, pageSize, parseKernelRelease } from "../../src/kernel/release.js";

test("parseCpuList reads the kernel's list syntax", () => {
  assert.deepEqual(parseCpuList("0-3,5,7-8"), [0, 1, 2, 3, 5, 7, 8]);
  assert.deepEqual(parseCpuList("0\n"), [0]);
  assert.deepEqual(parseCpuList("0-63"), Array.from({ length: 64 }, (_, i) => i));
  assert.deepEqual(parseCpuList("  4-5 , 1 \n"), [1, 4, 5]);
  assert.deepEqual(parseCpuList("2,0-2"), [0, 1, 2]); // overlapping parts are merged
  assert.deepEqual(parseCpuList("\n"), []);
  assert.throws(() => parseCpuList("3-1"), /descending range/);
  assert.throws(() => parseCpuList("0-"), /bad element/);
  assert.throws(() => parseCpuList("a"), /bad element/);
  assert.throws(() => parseCpuList("0,,1"), /bad element/);
});

test("CPU sets match sysfs", () => {
  const possibleText = readFileSync("/sys/devices/system/cpu/possible", "utf8");
  const onlineText = readFileSync("/sys/devices/system/cpu/online", "utf8");
  // Count the list by hand from the raw file so the check does not reuse the parser.
  let count = 0;
  for (const part of possibleText.trim().split(",")) {
    const [a, b] = part.split("-").map(Number) as [number, number | undefined];
    count += (b ?? a) - a + 1;
  }
  assert.equal(numPossibleCpus(), count);
  assert.equal(possibleCpus().length, count);
  assert.deepEqual(onlineCpus(), parseCpuList(onlineText));
  // Every online CPU is possible, and Node's own view agrees on how many are online.
  const possible = new Set(possibleCpus());
  for (const cpu of onlineCpus()) assert.ok(possible.has(cpu), `online CPU ${cpu} is possible`);
  assert.equal(onlineCpus().length, os.cpus().length);
  // Callers get copies: mutating one must not corrupt the cache.
  onlineCpus().push(9999);
  assert.ok(!onlineCpus().includes(9999));
});

test("kernel release and version code", () => {
  assert.deepEqual(parseKernelRelease("6.18.44-fc-v595"), { major: 6, minor: 18, patch: 44 });
  assert.deepEqual(parseKernelRelease("5.10"), { major: 5, minor: 10, patch: 0 });
  assert.deepEqual(parseKernelRelease("6.1.0-18-amd64"), { major: 6, minor: 1, patch: 0 });
  assert.throws(() => parseKernelRelease("linux"), /cannot parse/);
  assert.equal(kernelVersionCode({ major: 4, minor: 19, patch: 300 }), (4 << 16) + (19 << 8) + 255);
  assert.equal(kernelVersionCode({ major: 6, minor: 18, patch: 44 }), 0x06122c);
  assert.equal(kernelRelease(), readFileSync("/proc/sys/kernel/osrelease", "utf8").trim());
  const v = parseKernelRelease(kernelRelease());
  const code = linuxVersionCode();
  // Distribution overrides may change the patch level, never major.minor.
  assert.equal(code >> 8, (v.major << 8) + v.minor);
});

test("page size comes from the auxiliary vector", () => {
  const size = pageSize();
  assert.ok(size >= 4096 && (size & (size - 1)) === 0, `power of two, got ${size}`);
  // Cross-check with the kernel's own accounting of this process's mappings.
  const smaps = readFileSync("/proc/self/smaps", "utf8");
  const kb = /KernelPageSize:\s+(\d+) kB/.exec(smaps);
  assert.ok(kb, "smaps has KernelPageSize");
  assert.equal(size, Number(kb[1]) * 1024);
  if (process.arch === "x64") assert.equal(size, 4096);
});
