/* tsbcc shim for <uapi/linux/vm_sockets.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
