/* tsbcc shim for <linux/blk-cgroup.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
