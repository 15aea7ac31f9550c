/* tsbcc shim for <linux/page_ref.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
