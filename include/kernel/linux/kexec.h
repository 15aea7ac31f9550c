/* tsbcc shim for <linux/kexec.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
