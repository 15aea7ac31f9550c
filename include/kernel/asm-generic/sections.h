/* tsbcc shim for <asm-generic/sections.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
