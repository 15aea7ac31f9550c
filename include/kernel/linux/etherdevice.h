/* tsbcc shim for <linux/etherdevice.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
