/* tsbcc shim for <linux/byteorder/generic.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
