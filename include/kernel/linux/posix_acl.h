/* tsbcc shim for <linux/posix_acl.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
