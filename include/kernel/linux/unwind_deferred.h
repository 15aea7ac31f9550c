/* tsbcc shim for <linux/unwind_deferred.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
