/* tsbcc shim for <linux/tty_driver.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
