/* tsbcc shim for <linux/bio.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
