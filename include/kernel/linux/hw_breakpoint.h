/* tsbcc shim for <linux/hw_breakpoint.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
