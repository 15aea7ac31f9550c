/* tsbcc shim for <linux/init_task.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
