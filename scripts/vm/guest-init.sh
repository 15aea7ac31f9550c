#!/bin/busybox sh
# PID 1 of the VM-tier guest (copied into the initramfs as /init by prepare.sh).
#
# It turns the host's root file system (9p share "hostroot", read-only) into the guest's userland: an overlay
# with a tmpfs upper layer makes it writable without touching the host, the guest's own proc/sys/dev/tracefs/
# bpffs/... are mounted inside, and the job written by run.sh into the "results" share runs chrooted there.
# The job's exit status goes back through the results share, then the guest powers off.
# Everything this script prints starts with "[vm]" so the host can tell it from the command's output.

BB=/bin/busybox
$BB mount -t proc proc /proc
$BB mount -t sysfs sysfs /sys
$BB mount -t devtmpfs devtmpfs /dev
$BB --install -s /bin
export PATH=/bin

say() { echo "[vm] $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

halt_guest() {
  sync
  umount /mnt/results 2>/dev/null
  poweroff -f
  # poweroff -f should not return; if it does, ask the kernel directly.
  echo o >/proc/sysrq-trigger
  sleep 10
}

fail() {
  say "FATAL: $*"
  [ -w /mnt/results ] && echo "$*" >/mnt/results/init-error
  halt_guest
}

while read -r mod; do
  insmod "/lib/modules/$mod.ko" 2>/tmp/insmod.err || say "insmod $mod: $(cat /tmp/insmod.err)"
done </etc/modules.list

hostname tsbcc-vm
ip link set lo up || say "could not bring up lo"

# A large msize means fewer 9p round trips per read (each one is a virtqueue kick: slow under TCG).
# cache=loose: the host root does not change under us during a run, so metadata need not be re-checked.
NINEP="trans=virtio,version=9p2000.L,msize=512000"
mount_9p() { # tag dir options
  i=0
  while ! mount -t 9p -o "$NINEP,$3" "$1" "$2" 2>/tmp/mount.err; do
    i=$((i + 1))
    [ $i -ge 20 ] && fail "cannot mount 9p share $1: $(cat /tmp/mount.err)"
    sleep 0.1
  done
}
mount_9p results /mnt/results "cache=none"
mount_9p hostroot /mnt/host "ro,cache=loose"

[ -f /mnt/results/job.env ] || fail "no job.env in the results share"
. /mnt/results/job.env
[ -n "$TSBCC_VM_VERBOSE" ] && echo 7 >/proc/sys/kernel/printk

# Writable root: overlay over the read-only host root; writes land in guest memory and vanish at power off.
# TSBCC_VM_OVERLAY=0 keeps the plain read-only 9p root (overlay adds an xattr round trip per directory lookup).
mount -t tmpfs -o mode=755 tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
if [ "$TSBCC_VM_OVERLAY" = 0 ]; then
  mount --bind /mnt/host /mnt/root
elif ! mount -t overlay overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /mnt/root 2>/tmp/ovl.err; then
  say "overlay failed ($(cat /tmp/ovl.err)); the root stays read-only"
  mount --bind /mnt/host /mnt/root
fi
R=/mnt/root

# /tmp, /run and /var/tmp get fresh tmpfs mounts below; a working directory under one of them would vanish,
# so hold it aside and put it back afterwards.
KEEP=
case "$TSBCC_VM_CWD" in
  /tmp/* | /run/* | /var/tmp/*)
    if [ -d "$R$TSBCC_VM_CWD" ]; then mount --bind "$R$TSBCC_VM_CWD" /mnt/keep && KEEP=1; fi ;;
esac

mnt() { # type source target [options]
  mkdir -p "$3" 2>/dev/null
  mount -t "$1" ${4:+-o "$4"} "$2" "$3" || say "mount $1 on ${3#$R} failed"
}
mnt proc proc $R/proc
mnt sysfs sysfs $R/sys
mnt devtmpfs devtmpfs $R/dev
mnt devpts devpts $R/dev/pts "gid=5,mode=620,ptmxmode=666"
mnt tmpfs tmpfs $R/dev/shm "mode=1777"
mnt tracefs tracefs $R/sys/kernel/tracing
mnt debugfs debugfs $R/sys/kernel/debug
mnt securityfs securityfs $R/sys/kernel/security
mnt bpf bpffs $R/sys/fs/bpf "mode=700"
mnt cgroup2 cgroup2 $R/sys/fs/cgroup
mnt tmpfs tmpfs $R/tmp "mode=1777"
mnt tmpfs tmpfs $R/var/tmp "mode=1777"
mnt tmpfs tmpfs $R/run "mode=755"
# The guest kernel's modules (unpacked on the host by prepare.sh) where modprobe looks for them.
if [ -n "$TSBCC_VM_MODULES_DIR" ] && [ -d "$R$TSBCC_VM_MODULES_DIR" ]; then
  # (A read-only root without /lib/modules cannot get the mount point: modprobe is then unavailable.)
  mkdir -p $R/lib/modules 2>/dev/null
  [ -d $R/lib/modules ] && { mount --bind "$R$TSBCC_VM_MODULES_DIR" $R/lib/modules || say "cannot bind the guest modules"; }
fi
mkdir -p $R/run/tsbcc-vm
mount --bind /mnt/results $R/run/tsbcc-vm
if [ -n "$KEEP" ]; then
  mkdir -p "$R$TSBCC_VM_CWD" && mount --move /mnt/keep "$R$TSBCC_VM_CWD"
fi

echo "$(uptime_s)" >/mnt/results/uptime-start
say "boot done in $(uptime_s) s; running the command"
chroot $R /usr/bin/env -i /bin/bash --noprofile --norc /run/tsbcc-vm/job.sh </dev/null
rc=$?
echo "$(uptime_s)" >/mnt/results/uptime-end
echo $rc >/mnt/results/exit-code
halt_guest
