/* tsbcc shim for <net/fib_rules.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
