/* tsbcc shim for <net/act_api.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
