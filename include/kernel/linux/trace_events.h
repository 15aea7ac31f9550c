/* tsbcc shim for <linux/trace_events.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
