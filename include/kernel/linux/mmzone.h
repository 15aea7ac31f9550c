/* tsbcc shim for <linux/mmzone.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
