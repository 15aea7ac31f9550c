/* tsbcc shim for <linux/lsm_hooks.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
