/* tsbcc shim for <linux/ppp_defs.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
