/* tsbcc shim for <uapi/linux/magic.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
