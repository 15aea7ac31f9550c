/* tsbcc shim for <linux/sched/mm.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
