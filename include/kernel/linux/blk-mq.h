/* tsbcc shim for <linux/blk-mq.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
