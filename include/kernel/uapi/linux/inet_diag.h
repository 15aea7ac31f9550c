/* tsbcc shim for <uapi/linux/inet_diag.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
