/* tsbcc shim for <linux/jump_label.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
