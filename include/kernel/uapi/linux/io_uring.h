/* tsbcc shim for <uapi/linux/io_uring.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
