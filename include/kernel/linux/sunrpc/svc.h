/* tsbcc shim for <linux/sunrpc/svc.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
