/* tsbcc shim for <linux/bpf_local_storage.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
