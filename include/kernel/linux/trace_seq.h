/* tsbcc shim for <linux/trace_seq.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
