/* tsbcc shim for <linux/sched/topology.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
