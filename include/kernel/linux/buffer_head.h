/* tsbcc shim for <linux/buffer_head.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
