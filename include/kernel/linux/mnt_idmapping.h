/* tsbcc shim for <linux/mnt_idmapping.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
