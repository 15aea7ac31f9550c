// clang failures that are not the program's fault (a crash, a failure without diagnostics, no clang at all)
// surface as ClangError naming the signal or status and carrying clang's stderr, never as "clang failed: ".
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClangError, compileDialect } from "../../src/dialect/index.js";
import { TsbccError } from "../../src/errors.js";
import { FORMATS, MINI, skipReason } from "../fixtures/dialect/harness.js";
import { withEnv } from "../helpers/env.js";

const PROGRAM = `BPF_HASH(counts, u32);
TRACEPOINT_PROBE(syscalls, sys_enter_openat) { u32 k = 1; counts.increment(k); return 0; }
`;

/** A clang that behaves like the real one except in the run named by $FAKE_CLANG_FAIL (analyze or codegen). */
function faultyClang(dir: string): string {
  const path = join(dir, "clang");
  writeFileSync(path, `#!/bin/sh
case " $* " in
  *" -fsyntax-only "*) run=analyze ;;
  *" -c "*) run=codegen ;;
  *) run=other ;;
esac
if [ "$run" = "$FAKE_CLANG_FAIL" ]; then
  echo "fake clang: internal failure in $run" >&2
  if [ "$FAKE_CLANG_HOW" = crash ]; then kill -SEGV $$; fi
  exit 3
fi
exec /usr/bin/clang "$@"
`);
  chmodSync(path, 0o755);
  return path;
}

for (const run of ["analyze", "codegen"]) {
  for (const how of ["crash", "status"]) {
    test(`clang ${how === "crash" ? "killed by a signal" : "failing without diagnostics"} in ${run}: ClangError with ${how === "crash" ? "the signal" : "the status"} and stderr`, async (t) => {
      if (skipReason()) return t.skip(skipReason());
      const dir = mkdtempSync(join(tmpdir(), "tsbcc-clang-test-"));
      const clang = faultyClang(dir);
      await withEnv({ TSBCC_CLANG: clang, FAKE_CLANG_FAIL: run, FAKE_CLANG_HOW: how }, async () => {
        const err = await compileDialect({ text: PROGRAM, fileName: "prog.c", kernelTypes: MINI, tracepointFormats: FORMATS, cacheDir: join(dir, "cache"), noCache: true })
          .then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof ClangError, `got ${String(err)}`);
        assert.ok(err instanceof TsbccError);
        assert.equal(err.code, "CLANG");
        assert.equal(err.tool, clang);
        assert.match(err.stderr, new RegExp(`fake clang: internal failure in ${run}`));
        if (how === "crash") {
          assert.equal(err.signal, "SIGSEGV");
          assert.equal(err.exitCode, null);
          assert.match(err.message, new RegExp(`\\(${run}\\) was killed by SIGSEGV:\\nfake clang: internal failure in ${run}`));
        } else {
          assert.equal(err.signal, null);
          assert.equal(err.exitCode, 3);
          assert.match(err.message, new RegExp(`\\(${run}\\) exited with status 3:\\nfake clang: internal failure in ${run}`));
        }
        assert.doesNotMatch(err.message, /clang failed: /);
      });
    });
  }
}

test("no clang at all: ClangError saying how to get one", async () => {
  await withEnv({ TSBCC_CLANG: "/nonexistent/clang" }, async () => {
    await assert.rejects(compileDialect({ text: PROGRAM, kernelTypes: MINI, tracepointFormats: FORMATS, noCache: true }),
      (e: unknown) => e instanceof ClangError && e.code === "CLANG" && /clang not found at \/nonexistent\/clang .*TSBCC_CLANG/.test(e.message));
  });
});
