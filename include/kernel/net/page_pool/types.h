/* tsbcc shim for <net/page_pool/types.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
