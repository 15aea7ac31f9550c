/* tsbcc shim for <linux/proc_ns.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
