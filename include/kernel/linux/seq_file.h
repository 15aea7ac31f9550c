/* tsbcc shim for <linux/seq_file.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
