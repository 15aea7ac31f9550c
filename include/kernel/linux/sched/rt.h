/* tsbcc shim for <linux/sched/rt.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
