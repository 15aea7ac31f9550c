/* tsbcc shim for <asm/elf.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
