/* tsbcc shim for <linux/part_stat.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
