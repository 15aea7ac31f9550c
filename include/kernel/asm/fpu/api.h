/* tsbcc shim for <asm/fpu/api.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
