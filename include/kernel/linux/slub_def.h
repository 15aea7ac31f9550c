/* tsbcc shim for <linux/slub_def.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
