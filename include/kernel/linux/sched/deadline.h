/* tsbcc shim for <linux/sched/deadline.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
