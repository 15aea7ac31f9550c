/* tsbcc shim for <linux/fs_types.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
