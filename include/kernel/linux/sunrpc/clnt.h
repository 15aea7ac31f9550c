/* tsbcc shim for <linux/sunrpc/clnt.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
