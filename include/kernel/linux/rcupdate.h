/* tsbcc shim for <linux/rcupdate.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
