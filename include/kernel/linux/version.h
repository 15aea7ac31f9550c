/* tsbcc shim for <linux/version.h>: LINUX_VERSION_CODE and KERNEL_VERSION() come from <tsbcc/kernel-config.h>. */
#include <tsbcc/kernel.h>
