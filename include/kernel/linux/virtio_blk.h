/* tsbcc shim for <linux/virtio_blk.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
