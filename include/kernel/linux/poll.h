/* tsbcc shim for <linux/poll.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
