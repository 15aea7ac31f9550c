/* tsbcc shim for <linux/bpf_trace.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
