/* tsbcc shim for <linux/sched/ext.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
