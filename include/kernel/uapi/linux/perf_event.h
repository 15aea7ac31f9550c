/* tsbcc shim for <uapi/linux/perf_event.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
