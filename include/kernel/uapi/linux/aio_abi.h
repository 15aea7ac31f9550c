/* tsbcc shim for <uapi/linux/aio_abi.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
