/* tsbcc shim for <linux/folio_queue.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
