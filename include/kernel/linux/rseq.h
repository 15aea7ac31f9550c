/* tsbcc shim for <linux/rseq.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
