/* tsbcc shim for <uapi/linux/byteorder/little_endian.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
