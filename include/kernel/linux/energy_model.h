/* tsbcc shim for <linux/energy_model.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
