/* tsbcc shim for <linux/percpu.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
