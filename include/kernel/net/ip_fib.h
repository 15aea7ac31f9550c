/* tsbcc shim for <net/ip_fib.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
