/* tsbcc shim for <net/busy_poll.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
