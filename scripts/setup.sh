#!/usr/bin/env bash
# Installs everything tsbcc needs on Debian/Ubuntu (as root), then builds. Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() { [ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (sudo $0)" >&2; exit 1; }; }
need_root

# Build and run-time tools: the system clang compiles BPF C; libbpf-dev provides bpf_helpers.h;
# gcc builds the tests' small load generators; bpfcc-tools is BCC itself, for side-by-side benchmarks and
# golden outputs; systemtap-sdt-dev (sys/sdt.h) builds the USDT test targets; bpftool dumps vmlinux.h for the
# BCC tool-program capture; qemu/busybox/cpio boot the VM test tier; prometheus scrapes and chromium renders the
# exporters' output in the export tests.
packages=(clang llvm libbpf-dev gcc libc6-dev make python3 bpfcc-tools python3-bpfcc iproute2 iputils-ping procps systemtap-sdt-dev bpftool e2fsprogs xfsprogs btrfs-progs
          qemu-system-x86 busybox-static cpio zstd xz-utils kmod g++ binutils prometheus chromium curl gnutls-bin libnss3-tools)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# tracefs is where tracepoints live; mount it if the system did not.
if [ ! -e /sys/kernel/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi

# A linked node_modules belongs to another checkout (a git worktree sharing it): npm ci would empty that one.
if [ -L node_modules ]; then
  echo "$(basename "$0"): node_modules is a link to another checkout's; not reinstalling it here"
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
