/* tsbcc shim for <linux/static_key.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
