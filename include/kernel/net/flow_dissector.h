/* tsbcc shim for <net/flow_dissector.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
