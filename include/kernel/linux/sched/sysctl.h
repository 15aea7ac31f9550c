/* tsbcc shim for <linux/sched/sysctl.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
