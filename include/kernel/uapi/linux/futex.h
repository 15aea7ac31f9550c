/* tsbcc shim for <uapi/linux/futex.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
