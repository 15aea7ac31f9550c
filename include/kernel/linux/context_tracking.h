/* tsbcc shim for <linux/context_tracking.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
