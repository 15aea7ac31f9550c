/* tsbcc shim for <linux/sched/numa_balancing.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
