/* tsbcc shim for <linux/posix-timers.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
