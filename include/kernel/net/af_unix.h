/* tsbcc shim for <net/af_unix.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
