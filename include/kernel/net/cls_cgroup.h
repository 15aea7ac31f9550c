/* tsbcc shim for <net/cls_cgroup.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/net-defs.h>
