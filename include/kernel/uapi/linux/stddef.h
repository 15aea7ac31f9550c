/* tsbcc shim for <uapi/linux/stddef.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
