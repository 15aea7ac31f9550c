/* tsbcc shim for <linux/raid/md_p.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
