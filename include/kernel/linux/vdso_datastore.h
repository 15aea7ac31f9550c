/* tsbcc shim for <linux/vdso_datastore.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
