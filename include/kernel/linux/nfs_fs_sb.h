/* tsbcc shim for <linux/nfs_fs_sb.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
