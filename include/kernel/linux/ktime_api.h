/* tsbcc shim for <linux/ktime_api.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
