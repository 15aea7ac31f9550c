/* tsbcc shim for <linux/dm-ioctl.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
