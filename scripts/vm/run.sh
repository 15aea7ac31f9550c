#!/usr/bin/env bash
# Runs one command inside a fresh qemu guest booting the Debian kernel that prepare.sh unpacked.
#
#   scripts/vm/run.sh [options] -- command [args...]
#     --cwd DIR        working directory in the guest (default: the current one; the guest sees the host's files)
#     --timeout SECS   the command's own time limit inside the guest (default $TSBCC_VM_TIMEOUT or 600)
#     --env NAME=VALUE extra environment for the command (repeatable)
#     --results DIR    per-run directory shared writable with the guest (default: a new one under the cache)
#     --verbose        show the kernel's boot messages
#   Environment: TSBCC_VM_CACHE (where prepare.sh put the kernel), TSBCC_VM_TIMEOUT (default --timeout),
#   TSBCC_VM_BOOT_ALLOWANCE (seconds added for boot + power-off, default 120), TSBCC_VM_OVERLAY=0 (read-only root),
#   TSBCC_VM_MEM / TSBCC_VM_CPUS (default 2G / 2).
#
# The guest sees the host root read-only (through an in-memory overlay, so it may write anywhere), runs the
# command chrooted into it, and powers off. This script exits with the command's exit status; 124 when a time
# limit hit (the command's or the whole VM's), 125 when the guest failed before reporting a status.
# Console output streams to stdout and to <results>/console.log; the command's stdout alone is <results>/stdout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "[vm-run] $*" >&2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 2; }

CWD=$PWD
CMD_TIMEOUT=${TSBCC_VM_TIMEOUT:-600}
RESULTS=
VERBOSE=${TSBCC_VM_VERBOSE:-}
declare -a EXTRA_ENV=()
while (($#)); do
  case $1 in
    --cwd) CWD=$2; shift 2 ;;
    --timeout) CMD_TIMEOUT=$2; shift 2 ;;
    --env) EXTRA_ENV+=("$2"); shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --verbose) VERBOSE=1; shift ;;
    --) shift; break ;;
    -h | --help) usage ;;
    *) log "unknown option $1"; usage ;;
  esac
done
(($#)) || usage
[[ $CMD_TIMEOUT =~ ^[0-9]+$ ]] || { log "--timeout wants whole seconds"; exit 2; }
[[ $CWD == /* ]] || CWD=$(cd "$CWD" && pwd)

# Everything about the kernel comes from prepare.sh; run it once if it never ran on this machine.
CACHE=${TSBCC_VM_CACHE:-/var/cache/tsbcc-vm}
[[ -f $CACHE/current.env ]] || [[ -n ${TSBCC_VM_CACHE:-} ]] || CACHE=$(cd "$HERE/../.." && pwd)/test/vm/.work
if [[ ! -f $CACHE/current.env ]]; then
  log "no prepared kernel yet: running prepare.sh"
  envfile=$("$HERE/prepare.sh") || exit $?
  CACHE=$(dirname "$envfile")
fi
# shellcheck disable=SC1091
. "$CACHE/current.env"

# A caller-supplied results directory is the caller's; ours are kept (the last 10) for post-mortems.
if [[ -z $RESULTS ]]; then
  mkdir -p "$CACHE/runs"
  RESULTS=$(mktemp -d "$CACHE/runs/$(date +%Y%m%d-%H%M%S).XXXX")
  # Old run directories are only kept for looking at recent failures.
  ls -1dt "$CACHE"/runs/*/ 2>/dev/null | tail -n +11 | xargs -r rm -rf
else
  mkdir -p "$RESULTS"
fi
rm -f "$RESULTS"/{exit-code,stdout,init-error,uptime-start,uptime-end,console.log}

# job.env is read by the guest's busybox sh: plain single-quoted assignments only.
squote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
  echo "TSBCC_VM_CWD=$(squote "$CWD")"
  echo "TSBCC_VM_MODULES_DIR=$(squote "$TSBCC_VM_MODULES_DIR")"
  echo "TSBCC_VM_VERBOSE=$(squote "$VERBOSE")"
  echo "TSBCC_VM_OVERLAY=$(squote "${TSBCC_VM_OVERLAY:-1}")"
} >"$RESULTS/job.env"

# job.sh runs under the host's bash inside the guest's chroot, with an empty environment.
{
  echo '# written by scripts/vm/run.sh'
  printf 'export PATH=%q\n' "${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"
  # Caches and homes go to tmpfs: the host root is read-only underneath.
  echo 'export HOME=/tmp XDG_CACHE_HOME=/tmp/cache TMPDIR=/tmp USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb'
  printf 'export TSBCC_VM=1 TSBCC_VM_RESULTS=/run/tsbcc-vm TSBCC_VM_HOST_RELEASE=%q\n' "$(uname -r)"
  for kv in "${EXTRA_ENV[@]}"; do
    [[ $kv == *=* && ${kv%%=*} =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { log "bad --env $kv"; exit 2; }
    printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
  done
  printf 'cd -- %q || { echo "[vm] cannot enter %q" >&2; exit 125; }\n' "$CWD" "$CWD"
  echo 'set -o pipefail'
  printf 'timeout -k 10 %s' "$CMD_TIMEOUT"
  printf ' %q' "$@"
  echo ' | tee /run/tsbcc-vm/stdout'
  echo 'rc=$?'
  printf '[ $rc = 124 ] && echo "[vm] command timed out after %s s" >&2\n' "$CMD_TIMEOUT"
  echo 'exit $rc'
} >"$RESULTS/job.sh"

APPEND="console=ttyS0 panic=-1 lsm=lockdown,capability,yama,bpf mitigations=off random.trust_cpu=on"
if [[ -n $VERBOSE ]]; then APPEND+=" loglevel=7"; else APPEND+=" quiet loglevel=3"; fi

# Nested KVM hangs on these machines, so TCG; multi-threaded TCG lets both guest CPUs run at once.
QEMU=(qemu-system-x86_64
  -nodefaults -no-user-config -display none -no-reboot
  -accel tcg,thread=multi -cpu max -m "${TSBCC_VM_MEM:-2G}" -smp "${TSBCC_VM_CPUS:-2}"
  -serial stdio -monitor none
  -kernel "$TSBCC_VM_VMLINUZ" -initrd "$TSBCC_VM_INITRD" -append "$APPEND"
  -device virtio-rng-pci
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
  -virtfs "local,path=$RESULTS,mount_tag=results,security_model=none,multidevs=remap")

# The whole VM gets the command's limit plus room to boot and power off.
OVERALL=$((CMD_TIMEOUT + ${TSBCC_VM_BOOT_ALLOWANCE:-120}))
start=$(date +%s.%N)
set +e
timeout --foreground -k 5 "$OVERALL" "${QEMU[@]}" </dev/null 2>&1 | tee "$RESULTS/console.log"
qemu_rc=${PIPESTATUS[0]}
set -e
total=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

cp "$RESULTS/console.log" "$CACHE/last-console.log" 2>/dev/null || true

rc=
if [[ -f $RESULTS/exit-code ]]; then
  rc=$(cat "$RESULTS/exit-code")
  boot=$(cat "$RESULTS/uptime-start" 2>/dev/null || echo '?')
  ran=$(awk -v a="$boot" -v b="$(cat "$RESULTS/uptime-end" 2>/dev/null || echo 0)" 'BEGIN { printf "%.1f", b - a }')
  log "exit $rc; kernel $TSBCC_VM_KVER; guest boot-to-command ${boot} s, command ${ran} s, total ${total} s"
elif ((qemu_rc == 124 || qemu_rc == 137)); then
  log "VM killed after ${OVERALL} s (overall timeout) with no exit status; console: $RESULTS/console.log"
  rc=124
elif [[ -f $RESULTS/init-error ]]; then
  log "guest init failed: $(cat "$RESULTS/init-error"); console: $RESULTS/console.log"
  rc=125
else
  log "the guest stopped without reporting an exit status (qemu exit $qemu_rc); console: $RESULTS/console.log"
  rc=125
fi
exit "$rc"
