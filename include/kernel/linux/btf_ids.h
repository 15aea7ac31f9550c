/* tsbcc shim for <linux/btf_ids.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
