/* tsbcc shim for <linux/maple_tree.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
