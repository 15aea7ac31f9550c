/* tsbcc shim for <net/page_pool/helpers.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
