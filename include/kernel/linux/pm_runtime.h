/* tsbcc shim for <linux/pm_runtime.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
