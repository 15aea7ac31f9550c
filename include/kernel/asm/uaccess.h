/* tsbcc shim for <asm/uaccess.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
