/* tsbcc shim for <linux/fprobe.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
