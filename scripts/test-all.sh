#!/usr/bin/env bash
# One command from a fresh machine to every test tier passing: sets up, then runs unit, host-kernel and VM tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run test:unit
npm run test:kernel
npm run test:vm
