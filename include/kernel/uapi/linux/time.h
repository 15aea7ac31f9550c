/* tsbcc shim for <uapi/linux/time.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
