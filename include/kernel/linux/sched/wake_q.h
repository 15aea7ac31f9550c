/* tsbcc shim for <linux/sched/wake_q.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
