/* tsbcc shim for <linux/ring_buffer.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
