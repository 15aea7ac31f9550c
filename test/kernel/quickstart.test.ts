// Tier 2: the quick-start command as a user runs it: as root on a machine without sudo, it installs only what
// running needs (the test tiers' packages stay in setup.sh), builds, and runs the tool it was given.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { missing } from "../helpers/root.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const script = readFileSync(`${root}scripts/quickstart.sh`, "utf8");

test("quickstart installs run-time packages only", () => {
  const runtime = /^runtime=\(([^)]*)\)/m.exec(script)?.[1]?.trim().split(/\s+/);
  assert.deepEqual(runtime, ["clang", "llvm", "libbpf-dev"]);
  const setup = readFileSync(`${root}scripts/setup.sh`, "utf8");
  for (const p of runtime!) assert.match(setup, new RegExp(`\\b${p}\\b`), `setup.sh installs ${p} too`);
});

test("quickstart runs as root without sudo: `quickstart.sh --help` builds and prints the tools", { skip: missing("root"), timeout: 180_000 }, () => {
  // A PATH without sudo (whether or not this machine has it): root must not need it.
  const path = (process.env.PATH ?? "").split(":").filter((d) => spawnSync("test", ["-x", `${d}/sudo`]).status !== 0).join(":");
  const r = spawnSync("bash", ["scripts/quickstart.sh", "--help"], { cwd: root, encoding: "utf8", env: { ...process.env, PATH: path } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /usage: tsbcc <tool>/);
  assert.doesNotMatch(r.stderr, /sudo/);
});
