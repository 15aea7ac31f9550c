/* tsbcc shim for <asm/ptrace.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
