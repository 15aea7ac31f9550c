/* tsbcc shim for <linux/if_bridge.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
