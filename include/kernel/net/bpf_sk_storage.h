/* tsbcc shim for <net/bpf_sk_storage.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
