/* tsbcc shim for <linux/sched/task_stack.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
