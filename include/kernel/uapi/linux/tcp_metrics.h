/* tsbcc shim for <uapi/linux/tcp_metrics.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
