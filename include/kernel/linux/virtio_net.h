/* tsbcc shim for <linux/virtio_net.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
