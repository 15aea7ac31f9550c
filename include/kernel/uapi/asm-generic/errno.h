/* tsbcc shim for <uapi/asm-generic/errno.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
