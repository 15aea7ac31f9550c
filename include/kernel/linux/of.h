/* tsbcc shim for <linux/of.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
