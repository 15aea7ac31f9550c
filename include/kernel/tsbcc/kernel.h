/* tsbcc: the kernel's types (vmlinux.h, generated from the running kernel's BTF) plus what BTF cannot
 * carry. Every kernel-header shim includes this; it is also what the precompiled header holds, so it is
 * normally already parsed (force-included) before the program's first line. */
#ifndef __TSBCC_KERNEL_H
#define __TSBCC_KERNEL_H
#ifndef __VMLINUX_H__
#include <vmlinux.h>
#endif
#include <tsbcc/kernel-config.h>
#include <tsbcc/btf-fallbacks.h>
#include <tsbcc/kernel-defs.h>
#include <tsbcc/math64.h>
#include <tsbcc/jiffies.h>
#endif
