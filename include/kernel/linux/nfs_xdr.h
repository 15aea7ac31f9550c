/* tsbcc shim for <linux/nfs_xdr.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
