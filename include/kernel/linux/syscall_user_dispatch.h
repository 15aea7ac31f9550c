/* tsbcc shim for <linux/syscall_user_dispatch.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
