/* tsbcc shim for <linux/sysctl.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
