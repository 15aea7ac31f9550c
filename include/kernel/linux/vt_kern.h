/* tsbcc shim for <linux/vt_kern.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
