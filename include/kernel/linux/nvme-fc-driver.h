/* tsbcc shim for <linux/nvme-fc-driver.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
