/* tsbcc shim for <uapi/linux/in6.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
