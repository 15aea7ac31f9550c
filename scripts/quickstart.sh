#!/usr/bin/env bash
# One command from a fresh machine to a real tool tracing the real kernel: sets up, then runs execsnoop
# (every new process, as it starts). Stop it with Ctrl-C. Pass other tool names/arguments to run those instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" -eq 0 ]; then set -- execsnoop; fi
exec node dist/src/cli/tsbcc.mjs "$@"
