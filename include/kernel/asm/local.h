/* tsbcc shim for <asm/local.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
