/* tsbcc shim for <asm/thread_info.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
