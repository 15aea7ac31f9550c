/* tsbcc shim for <linux/sunrpc/sched.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
