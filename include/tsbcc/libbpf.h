/* tsbcc: libbpf's helper declarations, built into the tsbcc_base clang module together with the kernel's
 * vmlinux.h (see src/dialect/clang.ts). libbpf declares bpf_trace_printk(fmt, fmt_size, ...); BCC programs call
 * bpf_trace_printk(fmt, ...), which the rewriter turns into a call of the libbpf helper under a private name.
 * The rename below keeps the BCC spelling free for dialect.h. */
#ifndef __TSBCC_LIBBPF_H
#define __TSBCC_LIBBPF_H
#define bpf_trace_printk __tsbcc_libbpf_trace_printk
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#undef bpf_trace_printk
#endif
