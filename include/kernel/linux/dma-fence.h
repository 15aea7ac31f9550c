/* tsbcc shim for <linux/dma-fence.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
