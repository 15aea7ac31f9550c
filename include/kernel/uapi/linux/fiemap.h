/* tsbcc shim for <uapi/linux/fiemap.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
