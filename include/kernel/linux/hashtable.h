/* tsbcc shim for <linux/hashtable.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
