/* tsbcc shim for <linux/platform_device.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
