/* tsbcc shim for <linux/kcsan.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
