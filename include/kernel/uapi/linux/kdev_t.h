/* tsbcc shim for <uapi/linux/kdev_t.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
