/* tsbcc shim for <linux/crc32.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
