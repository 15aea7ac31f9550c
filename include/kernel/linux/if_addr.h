/* tsbcc shim for <linux/if_addr.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
