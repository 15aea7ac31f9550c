#!/usr/bin/env bash
# One command from a fresh machine to a real tool tracing the real kernel: installs only what running tsbcc needs
# (clang and llvm-strip to compile BPF C, libbpf-dev for bpf_helpers.h; not the test tiers' VM or BCC packages),
# builds, then runs execsnoop (every new process, as it starts). Stop it with Ctrl-C. Pass other tool names and
# arguments to run those instead. Works as root without sudo installed, or as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "quickstart.sh: needs root (run it as root, or install sudo)" >&2; exit 1
  fi
}

runtime=(clang llvm libbpf-dev)
# Each runtime package dpkg does not list as installed (one query for all of them).
mapfile -t missing < <(printf '%s\n' "${runtime[@]}" | grep -vxF -f <(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${runtime[@]}" 2>/dev/null |
  awk '$1 == "installed" { sub(/:.*/, "", $2); print $2 }') || true)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "quickstart.sh: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v node >/dev/null 2>&1 || { echo "quickstart.sh: Node.js >= 20 is needed (https://nodejs.org)" >&2; exit 1; }

# A linked node_modules belongs to another checkout (a git worktree sharing it): npm ci would empty that one.
if [ -L node_modules ]; then
  echo "$(basename "$0"): node_modules is a link to another checkout's; not reinstalling it here"
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent

if [ "$#" -eq 0 ]; then set -- execsnoop; fi
# tracefs is where tracepoints live; mount it if the system did not.
[ -e /sys/kernel/tracing/events ] || as_root mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
as_root node dist/src/cli/tsbcc.mjs "$@"
