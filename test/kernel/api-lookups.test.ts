// Tier 2: BCC's lookup helpers: find_exe (BPF.findExe) against the files on this machine, and tcp.state2str
// (tcpStateName) against the running kernel's sock:inet_sock_set_state format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { BPF } from "../../src/index.js";
import { tcpStateName } from "../../src/tools/index.js";
import { missing } from "../helpers/root.js";

test("BPF.findExe: a path is checked, a bare name is searched on PATH like the shell does; wrong input", () => {
  const shell = execFileSync("sh", ["-c", "command -v sh"], { encoding: "utf8" }).trim();
  assert.equal(realpathSync(BPF.findExe("sh")!), realpathSync(shell));
  assert.equal(BPF.findExe("/bin/sh"), "/bin/sh");
  assert.equal(BPF.findExe("/etc/passwd"), undefined, "not executable");
  assert.equal(BPF.findExe("/etc"), undefined, "a directory");
  assert.equal(BPF.findExe("tsbcc-no-such-program"), undefined);
  assert.throws(() => BPF.findExe(""), (e: Error & { code?: string }) => e.code === "BAD_ARGUMENT" && /name/.test(e.message));
  assert.throws(() => BPF.findExe(7 as unknown as string), /name/);
});

test("tcpStateName: the kernel's TCP state names (1 = ESTABLISHED, 10 = LISTEN, 7 = CLOSE)", { skip: missing("root") }, () => {
  assert.equal(tcpStateName(1), "ESTABLISHED");
  assert.equal(tcpStateName(2), "SYN_SENT");
  assert.equal(tcpStateName(7), "CLOSE");
  assert.equal(tcpStateName(10), "LISTEN");
  assert.equal(tcpStateName(999), "UNKNOWN(999)");
});
