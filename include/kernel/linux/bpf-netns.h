/* tsbcc shim for <linux/bpf-netns.h>: the kernel types come from the running kernel's BTF. */
#include <tsbcc/kernel.h>
