/* tsbcc shim for <linux/build_bug.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
