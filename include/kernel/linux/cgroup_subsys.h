/* tsbcc shim for <linux/cgroup_subsys.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
