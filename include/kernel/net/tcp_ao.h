/* tsbcc shim for <net/tcp_ao.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
