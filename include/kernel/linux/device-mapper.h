/* tsbcc shim for <linux/device-mapper.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
