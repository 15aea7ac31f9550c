/* tsbcc shim for <uapi/asm/ptrace.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
