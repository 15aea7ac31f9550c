/* tsbcc: <stdarg.h> for BPF programs built against vmlinux.h. va_list there is the kernel's own type
 * (kernel structs embed it, so it must keep the kernel's size); clang's stdarg.h would redeclare it as the
 * BPF target's. BPF functions cannot be variadic, so nothing else is needed. */
#ifndef __TSBCC_STDARG_H
#define __TSBCC_STDARG_H
#include <tsbcc/kernel.h>
#endif
