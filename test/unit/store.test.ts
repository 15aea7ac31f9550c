// src/store: private directories, reads that follow no link and trust nothing others could write, atomic
// writes, and the sweeping of what killed processes leave behind. Tier 1 (no kernel); the parts that need a
// second user's files (chown) run as root only and skip otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  StoreError, isPrivateFile, makeWorkDir, privateRoot, privateSubdir, readPrivateFile, removeWorkDir, sweepDeadTemps, sweepWorkDirs,
  verifyTree, writePrivateFile, writePrivateTree,
} from "../../src/store/index.js";

const isRoot = process.geteuid?.() === 0;

function scratch(): string {
  const dir = fs.mkdtempSync(join(tmpdir(), "tsbcc-store-test-"));
  fs.chmodSync(dir, 0o700);
  return dir;
}

/** Runs `fn`, returning the tsbcc cache warnings it emitted. */
async function warningsOf(fn: () => void): Promise<string[]> {
  const seen: string[] = [];
  const on = (w: Error): void => {
    if (w.name === "TsbccCacheWarning") seen.push(w.message);
  };
  process.on("warning", on);
  try {
    fn();
    await new Promise((r) => setImmediate(r));
    return seen;
  } finally {
    process.off("warning", on);
  }
}

/** A pid that certainly ran and exited. */
function deadPid(): number {
  const r = spawnSync("true");
  return r.pid!;
}

test("writes are atomic and private; a missing file reads as absent", async () => {
  const dir = scratch();
  const file = join(dir, "state.json");
  assert.equal(readPrivateFile(file), undefined);
  writePrivateFile(file, "hello");
  writePrivateFile(file, new Uint8Array([104, 105]));
  assert.equal(readPrivateFile(file)!.toString(), "hi");
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(dir), ["state.json"], "no temporary left");
  assert.ok(isPrivateFile(file));
  fs.rmSync(dir, { recursive: true });
});

test("a tree is published whole and private, once", () => {
  const dir = scratch();
  const dest = join(dir, "entry");
  assert.equal(writePrivateTree(dest, { "meta.json": "{}", "include/tsbcc/a.h": "int a;" }), true);
  assert.equal(fs.readFileSync(join(dest, "include", "tsbcc", "a.h"), "utf8"), "int a;");
  for (const d of [dest, join(dest, "include"), join(dest, "include", "tsbcc")]) assert.equal(fs.statSync(d).mode & 0o777, 0o700, d);
  assert.equal(fs.statSync(join(dest, "meta.json")).mode & 0o777, 0o600);
  assert.equal(writePrivateTree(dest, { "meta.json": "other" }), false, "someone published first");
  assert.equal(fs.readFileSync(join(dest, "meta.json"), "utf8"), "{}");
  assert.deepEqual(fs.readdirSync(dir), ["entry"], "no temporary left");
  assert.throws(() => writePrivateTree(join(dir, "bad"), { "../escape": "x" }), StoreError);
  assert.deepEqual(fs.readdirSync(dir), ["entry"]);
  fs.rmSync(dir, { recursive: true });
});

test("reads follow no link and drop files others could have written", async () => {
  const dir = scratch();
  const outside = join(dir, "outside");
  fs.writeFileSync(outside, "target", { mode: 0o600 });
  const cases: [string, () => void, RegExp][] = [
    ["link", () => fs.symlinkSync(outside, join(dir, "link")), /link is a symbolic link; removed/],
    ["fifo", () => spawnSync("mkfifo", [join(dir, "fifo")]), /fifo is not a regular file; removed/],
    ["loose", () => {
      fs.writeFileSync(join(dir, "loose"), "x");
      fs.chmodSync(join(dir, "loose"), 0o666);
    }, /loose is writable by others \(mode 666\); removed/],
    ["linked", () => fs.linkSync(outside, join(dir, "linked")), /linked has 2 hard links; removed/],
  ];
  if (isRoot) {
    cases.push(["foreign", () => {
      fs.writeFileSync(join(dir, "foreign"), "x", { mode: 0o600 });
      fs.chownSync(join(dir, "foreign"), 65534, 65534);
    }, /foreign is owned by uid 65534; removed/]);
  }
  for (const [name, make, warning] of cases) {
    make();
    let got: Buffer | undefined = Buffer.from("unset");
    const warnings = await warningsOf(() => {
      got = readPrivateFile(join(dir, name));
    });
    assert.equal(got, undefined, name);
    assert.ok(!fs.existsSync(join(dir, name)) && !isLink(join(dir, name)), `${name} removed`);
    assert.ok(warnings.some((w) => warning.test(w)), `${name}: ${warnings.join(" | ")}`);
  }
  assert.equal(fs.readFileSync(outside, "utf8"), "target", "a link's target is left alone");
  fs.rmSync(dir, { recursive: true });
});

function isLink(path: string): boolean {
  try {
    return fs.lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

test("a directory component that is a link or open to others' writes is replaced; bad names are refused", async () => {
  const root = scratch();
  const elsewhere = scratch();
  fs.writeFileSync(join(elsewhere, "keep"), "x");
  fs.symlinkSync(elsewhere, join(root, "a"));
  const warnings = await warningsOf(() => {
    const dir = privateSubdir(root, "a", "b");
    assert.equal(dir, join(root, "a", "b"));
  });
  assert.ok(warnings.some((w) => /a is a symbolic link; removed/.test(w)), warnings.join(" | "));
  assert.ok(fs.lstatSync(join(root, "a")).isDirectory());
  assert.equal(fs.statSync(join(root, "a", "b")).mode & 0o777, 0o700);
  assert.deepEqual(fs.readdirSync(elsewhere), ["keep"], "the link's target untouched");

  fs.chmodSync(join(root, "a"), 0o777);
  fs.writeFileSync(join(root, "a", "planted"), "x", { mode: 0o600 });
  privateSubdir(root, "a");
  assert.deepEqual(fs.readdirSync(join(root, "a")), [], "a directory others could write is emptied (replaced)");
  fs.writeFileSync(join(root, "a", "mine"), "x", { mode: 0o600 });
  fs.chmodSync(join(root, "a"), 0o755);
  privateSubdir(root, "a");
  assert.equal(fs.statSync(join(root, "a")).mode & 0o777, 0o700, "readable by others: tightened");
  assert.deepEqual(fs.readdirSync(join(root, "a")), ["mine"], "and kept");

  for (const bad of ["", ".", "..", "x/y"]) {
    assert.throws(() => privateSubdir(root, bad), (e: unknown) => e instanceof StoreError && e.code === "CACHE" && /bad directory name/.test(e.message));
  }
  fs.rmSync(root, { recursive: true });
  fs.rmSync(elsewhere, { recursive: true });
});

test("verifyTree removes links, foreign and loose entries at any depth, and keeps ours", async () => {
  const root = scratch();
  fs.mkdirSync(join(root, "d", "e"), { recursive: true, mode: 0o700 });
  fs.writeFileSync(join(root, "d", "e", "ok.h"), "x", { mode: 0o600 });
  fs.writeFileSync(join(root, "d", "e", "loose.h"), "x");
  fs.chmodSync(join(root, "d", "e", "loose.h"), 0o622);
  fs.symlinkSync("/etc/hostname", join(root, "d", "link.h"));
  fs.symlinkSync("x", join(root, "d", "clang.lock"));
  const removed = verifyTree(root, (p) => p.endsWith(".lock"));
  assert.equal(removed, 2);
  assert.deepEqual(fs.readdirSync(join(root, "d")).sort(), ["clang.lock", "e"]);
  assert.deepEqual(fs.readdirSync(join(root, "d", "e")), ["ok.h"]);
  fs.rmSync(root, { recursive: true });
});

test("a root that others could write is tightened and swept; an unusable root is bypassed with a warning", async () => {
  const tmp = scratch();
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    const root = join(tmp, "cache");
    fs.mkdirSync(join(root, "dialect"), { recursive: true });
    fs.chmodSync(root, 0o777);
    fs.chmodSync(join(root, "dialect"), 0o700);
    fs.writeFileSync(join(root, "dialect", "mine.bin"), "x", { mode: 0o600 });
    fs.symlinkSync("/etc/passwd", join(root, "dialect", "planted.bin"));
    let got = "";
    const warnings = await warningsOf(() => {
      got = privateRoot(root);
    });
    assert.equal(got, root);
    assert.equal(fs.statSync(root).mode & 0o777, 0o700);
    assert.deepEqual(fs.readdirSync(join(root, "dialect")), ["mine.bin"]);
    assert.ok(warnings.some((w) => /was writable by others \(mode 777\); made private, 1 entry not ours removed/.test(w)), warnings.join(" | "));

    const linked = join(tmp, "linked");
    fs.symlinkSync(root, linked);
    const w2 = await warningsOf(() => {
      got = privateRoot(linked);
    });
    assert.equal(got, join(tmp, `tsbcc-${process.geteuid!()}`));
    assert.ok(w2.some((w) => w.includes(`cache directory ${linked} is a symbolic link; bypassed, using ${got}`)), w2.join(" | "));

    // A root below a directory others can write (no sticky bit) could be swapped after the check: bypassed.
    const open = join(tmp, "open");
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const w4 = await warningsOf(() => {
      got = privateRoot(join(open, "cache"));
    });
    assert.equal(got, join(tmp, `tsbcc-${process.geteuid!()}`));
    assert.ok(w4.some((w) => w.includes(`is below ${open}, which others can write (mode 777, not sticky); bypassed`)), w4.join(" | "));
    fs.chmodSync(open, 0o1777);
    assert.equal(privateRoot(join(open, "cache2")), join(open, "cache2"), "a sticky directory (like /tmp) is fine");

    if (isRoot) {
      // The shared fallback pre-created by someone else: a directory of this process is used instead.
      fs.rmSync(got, { recursive: true });
      fs.mkdirSync(got, { mode: 0o777 });
      fs.chownSync(got, 65534, 65534);
      const foreign = join(tmp, "foreign");
      fs.mkdirSync(foreign);
      fs.chownSync(foreign, 65534, 65534);
      let own = "";
      const w3 = await warningsOf(() => {
        own = privateRoot(foreign);
      });
      assert.match(own, new RegExp(`^${tmp}/tsbcc-0-\\w{6}$`));
      assert.equal(fs.statSync(own).uid, 0);
      assert.ok(w3.some((w) => w.includes(`${got} is owned by uid 65534; using ${own}`)), w3.join(" | "));
    }
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("temporaries and work directories of dead processes are swept, live ones kept", () => {
  const tmp = scratch();
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    const dead = deadPid();
    fs.writeFileSync(join(tmp, `x.bin.tmp-${dead}-abcd`), "");
    fs.writeFileSync(join(tmp, `x.bin.tmp-${process.pid}-abcd`), "");
    fs.mkdirSync(join(tmp, `entry.tmp-${dead}-0123`));
    assert.equal(sweepDeadTemps(tmp), 2);
    assert.deepEqual(fs.readdirSync(tmp), [`x.bin.tmp-${process.pid}-abcd`]);

    const work = makeWorkDir();
    assert.match(work, new RegExp(`/tsbcc-w${process.pid}-\\w{6}$`));
    assert.equal(fs.statSync(work).mode & 0o777, 0o700);
    fs.mkdirSync(join(tmp, `tsbcc-w${dead}-AbCdEf`));
    fs.writeFileSync(join(tmp, `tsbcc-w${dead}-AbCdEf`, "out.o"), "");
    assert.deepEqual(sweepWorkDirs(), [join(tmp, `tsbcc-w${dead}-AbCdEf`)]);
    assert.ok(fs.existsSync(work), "a live process's work directory stays");
    removeWorkDir(work);
    assert.ok(!fs.existsSync(work));
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
