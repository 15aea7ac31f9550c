#!/usr/bin/env bash
# Prepares everything the VM test tier needs to boot a Debian kernel under qemu:
#   - host tools (qemu, cpio, kmod, ...) installed with apt when missing,
#   - a Debian linux-image package, downloaded with apt and unpacked with dpkg -x,
#   - an initramfs: static busybox, the 9p/virtio/overlay modules, scripts/vm/guest-init.sh as /init.
# Idempotent: a second run with nothing changed only looks things up and prints the summary.
#
# Environment:
#   TSBCC_VM_CACHE           cache directory (default /var/cache/tsbcc-vm; falls back to test/vm/.work)
#   TSBCC_VM_KERNEL          kernel release to use, e.g. 6.1.0-56-amd64 (default: newest available)
#   TSBCC_VM_KERNEL_SERIES   upstream series searched when TSBCC_VM_KERNEL is unset (default 6.1.0)
#   TSBCC_VM_EXTRA_MODULES   more module names to put in the initramfs (space separated)
#
# Exit codes: 0 ready; 69 the infrastructure cannot be had here (message starts with VM-UNAVAILABLE:);
# anything else is a bug in this script or the environment that must be looked at.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
EX_UNAVAILABLE=69

log() { echo "[vm-prepare] $*" >&2; }
unavailable() { echo "VM-UNAVAILABLE: $*" >&2; exit "$EX_UNAVAILABLE"; }

pick_cache_dir() {
  local want=${TSBCC_VM_CACHE:-}
  if [[ -n $want ]]; then echo "$want"; return; fi
  # /var/cache outlives fresh clones of the repository (CI clones anew), so a kernel is downloaded once per machine.
  if mkdir -p /var/cache/tsbcc-vm 2>/dev/null && [[ -w /var/cache/tsbcc-vm ]]; then
    echo /var/cache/tsbcc-vm
  else
    echo "$REPO/test/vm/.work"
  fi
}
CACHE=$(pick_cache_dir)
mkdir -p "$CACHE/debs" "$CACHE/kernels" "$CACHE/runs"

# Two prepares at once (two terminals, a test and CI) must not unpack into the same directory.
exec 9>"$CACHE/.prepare.lock"
flock 9

APT_OPTS=(-y --no-install-recommends -o DPkg::Lock::Timeout=600 -o Acquire::Retries=2)
APT_UPDATED=0
apt_update_once() {
  [[ $APT_UPDATED == 1 ]] && return 0
  APT_UPDATED=1
  log "apt-get update"
  apt-get update -qq -o DPkg::Lock::Timeout=600 >&2 || return 1
}

# ---------------------------------------------------------------------------------------------- host tools
ensure_tools() {
  local -a missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  command -v cpio >/dev/null || missing+=(cpio)
  command -v gzip >/dev/null || missing+=(gzip)
  command -v depmod >/dev/null || missing+=(kmod)       # also gives the guest a modprobe (it runs the host's userland)
  command -v xz >/dev/null || missing+=(xz-utils)       # newer Debian kernels ship .ko.xz modules
  command -v zstd >/dev/null || missing+=(zstd)
  command -v flock >/dev/null || missing+=(util-linux)
  command -v timeout >/dev/null || missing+=(coreutils)
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) == 0 ]] || unavailable "missing ${missing[*]} and not root to apt-get install them"
  command -v apt-get >/dev/null || unavailable "missing ${missing[*]} and no apt-get"
  log "installing ${missing[*]}"
  if ! apt-get install "${APT_OPTS[@]}" "${missing[@]}" >&2; then
    apt_update_once || unavailable "apt-get update failed (no package registry?)"
    apt-get install "${APT_OPTS[@]}" "${missing[@]}" >&2 || unavailable "apt-get install ${missing[*]} failed"
  fi
}

# A static busybox is the whole userland of the initramfs. We take the one installed by busybox-static, or unpack
# that package into the cache (installing it would replace a dynamic busybox the host may depend on).
# Sets BUSYBOX (not echoed: a subshell would forget that apt-get update already ran).
find_busybox() {
  if dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' && [[ -x /bin/busybox ]]; then
    BUSYBOX=/bin/busybox; return
  fi
  local dir=$CACHE/busybox-static
  if [[ ! -x $dir/bin/busybox ]]; then
    log "fetching busybox-static into the cache"
    (cd "$CACHE/debs" && { apt-get download busybox-static >&2 2>/dev/null ||
      { apt_update_once && apt-get download busybox-static >&2; }; }) || unavailable "cannot download busybox-static"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    dpkg -x "$(ls -t "$CACHE"/debs/busybox-static_*.deb | head -1)" "$dir.tmp"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  BUSYBOX=$dir/bin/busybox
}

# ---------------------------------------------------------------------------------------------- kernel
newest_cached_kernel() {
  ls -1 "$CACHE/kernels" 2>/dev/null | while read -r k; do
    [[ -f $CACHE/kernels/$k/root/boot/vmlinuz-$k ]] && echo "$k"
  done | sort -V | tail -1
}

search_kernels() {
  local series=${TSBCC_VM_KERNEL_SERIES:-6.1.0}
  apt-cache search --names-only "^linux-image-${series//./\\.}-[0-9]+-amd64(-unsigned)?\$" 2>/dev/null |
    awk '{print $1}' | sed -E 's/^linux-image-//; s/-unsigned$//' | sort -uV
}

# Sets KVER. Without TSBCC_VM_KERNEL: the newest linux-image-<series>-N-amd64 that apt knows of.
pick_kernel() {
  if [[ -n ${TSBCC_VM_KERNEL:-} ]]; then
    KVER=$TSBCC_VM_KERNEL
    [[ $KVER == *-amd64 ]] || KVER="$KVER-amd64"
    return 0
  fi
  KVER=$(search_kernels | tail -1)
  if [[ -z $KVER ]]; then
    apt_update_once || true
    KVER=$(search_kernels | tail -1)
  fi
  [[ -n $KVER ]]
}

download_kernel() {
  local kver=$1 pkg
  for pkg in "linux-image-$kver-unsigned" "linux-image-$kver"; do
    if (cd "$CACHE/debs" && apt-get download "$pkg" >&2 2>"$CACHE/debs/.apt-download.err"); then
      ls -t "$CACHE"/debs/"${pkg}"_*.deb | head -1; return 0
    fi
  done
  return 1
}

# Returns 1 when the package cannot be downloaded.
unpack_kernel() {
  local kver=$1 dir=$CACHE/kernels/$1
  [[ -f $dir/root/boot/vmlinuz-$kver && -f $dir/root/lib/modules/$kver/modules.dep ]] && return 0
  local deb
  log "downloading linux-image-$kver"
  deb=$(download_kernel "$kver") || return 1
  log "unpacking $(basename "$deb")"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/root"
  dpkg -x "$deb" "$dir.tmp/root"
  [[ -f $dir.tmp/root/boot/vmlinuz-$kver ]] || { log "package $deb has no boot/vmlinuz-$kver"; exit 1; }
  # Debian generates modules.dep at install time (postinst); we need it for load order and for modprobe in the guest.
  depmod -b "$dir.tmp/root" "$kver"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  rm -f "$deb"   # ~70 MB, and everything needed is unpacked
  # Debian replaces kernel ABIs often; keep the two newest unpacked kernels (~400 MB each).
  ls -1 "$CACHE/kernels" | grep -v '\.tmp$' | sort -V | head -n -2 | while read -r old; do
    [[ $old == "$kver" ]] || { log "removing old kernel $old"; rm -rf "${CACHE:?}/kernels/$old"; }
  done
}

# Picks, downloads and unpacks a kernel; sets KVER. Stale apt lists (the newest package listed may be gone from
# the archive) get one apt-get update; with no registry at all a previously unpacked kernel still serves.
obtain_kernel() {
  local why
  if pick_kernel && unpack_kernel "$KVER"; then return 0; fi
  if [[ -z ${TSBCC_VM_KERNEL:-} ]] && apt_update_once && pick_kernel && unpack_kernel "$KVER"; then return 0; fi
  if [[ -n ${TSBCC_VM_KERNEL:-} ]] && apt_update_once && unpack_kernel "$KVER"; then return 0; fi
  if [[ -n $KVER ]]; then
    why="apt-get download linux-image-$KVER failed: $(tail -1 "$CACHE/debs/.apt-download.err" 2>/dev/null)"
  else
    why="no linux-image-${TSBCC_VM_KERNEL_SERIES:-6.1.0}-*-amd64 package known to apt"
  fi
  local cached
  cached=$(newest_cached_kernel)
  if [[ -z ${TSBCC_VM_KERNEL:-} && -n $cached ]]; then
    log "$why; using the cached kernel $cached"
    KVER=$cached; return 0
  fi
  unavailable "$why"
}

# qemu can boot an uncompressed ELF vmlinux through its PVH entry point: that skips the real-mode setup and the
# in-guest decompression, which take ~3 s under TCG (2/3 of the time to the kernel's first message).
# Returns 1 when the kernel has no PVH entry or the payload cannot be found; run.sh then uses the bzImage.
extract_pvh_vmlinux() {
  local kver=$1 dir=$CACHE/kernels/$1
  local vmlinuz=$dir/root/boot/vmlinuz-$kver out=$dir/vmlinux
  [[ ${TSBCC_VM_PVH:-1} == 1 ]] || return 1
  grep -q '^CONFIG_PVH=y' "$dir/root/boot/config-$kver" || return 1
  [[ -s $out ]] && return 0
  local magic tool off
  for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
    tool=${magic%%:*}
    for off in $(LC_ALL=C grep -obUaP "${magic#*:}" "$vmlinuz" | cut -d: -f1 | head -4); do
      case $tool in
        xz) tail -c +$((off + 1)) "$vmlinuz" | xz -dc --single-stream >"$out.tmp" 2>/dev/null ;;
        zstd) tail -c +$((off + 1)) "$vmlinuz" | zstd -qdc >"$out.tmp" 2>/dev/null ;;
        gzip) tail -c +$((off + 1)) "$vmlinuz" | gzip -dc >"$out.tmp" 2>/dev/null ;;
      esac
      if [[ $(head -c 4 "$out.tmp" 2>/dev/null | od -An -c | tr -d ' ') == '177ELF' ]]; then
        mv "$out.tmp" "$out"; log "extracted an uncompressed vmlinux for PVH boot"; return 0
      fi
    done
  done
  rm -f "$out.tmp"
  return 1
}

report_config() {
  local cfg=$1 opt val
  log "kernel config $(basename "$cfg"):"
  for opt in KPROBES KPROBE_EVENTS BPF_KPROBE_OVERRIDE FUNCTION_ERROR_INJECTION DYNAMIC_FTRACE_WITH_DIRECT_CALLS \
    BPF_LSM DEBUG_INFO_BTF DEBUG_INFO_BTF_MODULES UPROBES; do
    val=$(grep -E "^CONFIG_${opt}=" "$cfg" | cut -d= -f2- || true)
    log "  CONFIG_$opt=${val:-(not set)}"
  done
}

# ---------------------------------------------------------------------------------------------- initramfs
# Modules the guest init inserts before anything else: the virtio PCI transport, the 9p file system over virtio,
# overlayfs (a writable view of the read-only host root) and the virtio RNG (entropy for node at boot).
BASE_MODULES=(virtio_pci virtio_rng 9pnet_virtio 9p overlay)

declare -A MOD_PATH MOD_DEPS MOD_SEEN
MOD_ORDER=()
load_module_index() {
  local moddir=$1 line path name
  while IFS= read -r line; do
    path=${line%%:*}
    name=${path##*/}; name=${name%%.ko*}; name=${name//-/_}
    MOD_PATH[$name]=$path
    MOD_DEPS[$name]=${line#*:}
  done <"$moddir/modules.dep"
}
# Depth-first, dependencies first: gives an insmod order in which every module finds its symbols.
visit_module() {
  local name=${1//-/_} dep depname
  [[ -n ${MOD_SEEN[$name]:-} ]] && return 0
  MOD_SEEN[$name]=1
  for dep in ${MOD_DEPS[$name]}; do
    depname=${dep##*/}; depname=${depname%%.ko*}
    visit_module "$depname"
  done
  MOD_ORDER+=("$name")
}

copy_module() {
  local src=$1 dst=$2
  case $src in
    *.ko) cp "$src" "$dst" ;;
    *.ko.xz) xz -dc "$src" >"$dst" ;;       # busybox insmod does not decompress
    *.ko.zst) zstd -qdc "$src" >"$dst" ;;
    *.ko.gz) gzip -dc "$src" >"$dst" ;;
    *) log "unknown module format: $src"; exit 1 ;;
  esac
}

build_initramfs() {
  local kver=$1 busybox=$2 dir=$CACHE/kernels/$1
  local moddir=$dir/root/lib/modules/$kver
  local -a wanted=("${BASE_MODULES[@]}")
  [[ -n ${TSBCC_VM_EXTRA_MODULES:-} ]] && read -ra extra <<<"$TSBCC_VM_EXTRA_MODULES" && wanted+=("${extra[@]}")

  load_module_index "$moddir"
  local m
  for m in "${wanted[@]}"; do
    m=${m//-/_}
    if [[ -z ${MOD_PATH[$m]:-} ]]; then
      if grep -Eq "/${m//_/[-_]}\.ko" "$moddir/modules.builtin"; then log "module $m is built in"; continue; fi
      log "module $m not found in $kver"; exit 1
    fi
    visit_module "$m"
  done

  local stamp
  stamp=$( { cat "$HERE/guest-init.sh" "${BASH_SOURCE[0]}"; echo "${MOD_ORDER[*]}"; sha256sum "$busybox"; } | sha256sum | cut -c1-16)
  if [[ -f $dir/initramfs.gz && $(cat "$dir/initramfs.stamp" 2>/dev/null) == "$stamp" ]]; then
    return 0
  fi
  log "building initramfs (${MOD_ORDER[*]})"
  local stage
  stage=$(mktemp -d "$CACHE/initramfs.XXXXXX")
  mkdir -p "$stage"/{bin,dev,proc,sys,tmp,run,etc,lib/modules,mnt/host,mnt/root,mnt/results,mnt/keep,mnt/rw}
  cp "$busybox" "$stage/bin/busybox"
  # The kernel opens /dev/console for init before init can mount devtmpfs.
  mknod -m 600 "$stage/dev/console" c 5 1
  mknod -m 666 "$stage/dev/null" c 1 3
  : >"$stage/etc/modules.list"
  for m in "${MOD_ORDER[@]}"; do
    copy_module "$moddir/${MOD_PATH[$m]}" "$stage/lib/modules/$m.ko"
    echo "$m" >>"$stage/etc/modules.list"
  done
  echo "$kver" >"$stage/etc/kernel-release"
  install -m 755 "$HERE/guest-init.sh" "$stage/init"
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$dir/initramfs.gz.tmp"
  mv "$dir/initramfs.gz.tmp" "$dir/initramfs.gz"
  echo "$stamp" >"$dir/initramfs.stamp"
  rm -rf "$stage"
}

# ---------------------------------------------------------------------------------------------- main
[[ $(uname -m) == x86_64 ]] || unavailable "host is $(uname -m); the VM tier boots an amd64 kernel"
ensure_tools
BUSYBOX=
find_busybox
KVER=
obtain_kernel
build_initramfs "$KVER" "$BUSYBOX"
report_config "$CACHE/kernels/$KVER/root/boot/config-$KVER"
BOOT_IMAGE=$CACHE/kernels/$KVER/root/boot/vmlinuz-$KVER
if extract_pvh_vmlinux "$KVER"; then BOOT_IMAGE=$CACHE/kernels/$KVER/vmlinux; else rm -f "$CACHE/kernels/$KVER/vmlinux"; fi

# run.sh reads this; paths are absolute so the guest can find the unpacked modules through the host-root share.
cat >"$CACHE/current.env.tmp" <<EOF
TSBCC_VM_KVER=$KVER
TSBCC_VM_VMLINUZ=$BOOT_IMAGE
TSBCC_VM_INITRD=$CACHE/kernels/$KVER/initramfs.gz
TSBCC_VM_MODULES_DIR=$CACHE/kernels/$KVER/root/lib/modules
EOF
mv "$CACHE/current.env.tmp" "$CACHE/current.env"
log "ready: kernel $KVER, cache $CACHE"
echo "$CACHE/current.env"
