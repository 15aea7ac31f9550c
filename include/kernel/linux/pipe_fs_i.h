/* tsbcc shim for <linux/pipe_fs_i.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
