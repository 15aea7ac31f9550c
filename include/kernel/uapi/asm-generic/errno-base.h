/* tsbcc shim for <uapi/asm-generic/errno-base.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
