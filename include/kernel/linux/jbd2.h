/* tsbcc shim for <linux/jbd2.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
