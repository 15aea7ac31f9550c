/* tsbcc: <stddef.h> for BPF programs built against vmlinux.h (clang's declares wchar_t as int, the kernel
 * as u16). size_t, ptrdiff_t and bool come from vmlinux.h; NULL and offsetof from <tsbcc/kernel-defs.h>. */
#ifndef __TSBCC_STDDEF_H
#define __TSBCC_STDDEF_H
#include <tsbcc/kernel.h>
#endif
