/* tsbcc shim for <linux/lsm_hook_defs.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
