/* tsbcc shim for <uapi/linux/bpf.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
