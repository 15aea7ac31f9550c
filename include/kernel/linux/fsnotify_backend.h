/* tsbcc shim for <linux/fsnotify_backend.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
