/* tsbcc shim for <linux/mm_types_task.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
