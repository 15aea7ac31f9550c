/* tsbcc shim for <linux/userfaultfd_k.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
