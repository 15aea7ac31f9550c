// memleak's BPF program: allocations that are not freed yet, by address, with their size, time and stack. User mode
// hooks libc's allocator (entry uprobes keep the size per thread, return uprobes record the address; free and
// realloc drop it); kernel mode reads the kmem tracepoints (kmalloc/kfree, kmem_cache_alloc/free, page alloc/free).

export interface MemleakFilter {
  minSize?: number;
  maxSize?: number;
  sampleRate?: number;
  pageSize: number;
}

const COMMON = (f: MemleakFilter, stackFlags: string) => `
struct alloc_info_t {
    u64 size;
    u64 timestamp_ns;
    int stack_id;
};
BPF_HASH(sizes, u64, u64, 10240);
BPF_HASH(allocs, u64, struct alloc_info_t, 1000000);
BPF_HASH(memptrs, u64, u64, 10240);
BPF_STACK_TRACE(stack_traces, 10240);

static int size_wanted(u64 size) {
    if (${f.minSize ?? 0} > 0 && size < ${f.minSize ?? 0}) return 0;
    if (${f.maxSize ?? 0} > 0 && size > ${f.maxSize ?? 0}) return 0;
    if (${f.sampleRate ?? 1} > 1 && (bpf_ktime_get_ns() % ${f.sampleRate ?? 1}) != 0) return 0;
    return 1;
}

static void record(void *ctx, u64 address, u64 size) {
    struct alloc_info_t info = {};
    info.size = size;
    info.timestamp_ns = bpf_ktime_get_ns();
    info.stack_id = stack_traces.get_stackid(ctx, ${stackFlags});
    allocs.update(&address, &info);
}
`;

/** User mode: uprobes named <fn>_enter / <fn>_exit (see USER_ALLOCATORS). */
export function userProgram(f: MemleakFilter): string {
  return COMMON(f, "BPF_F_USER_STACK") + `
static int alloc_enter(u64 size) {
    if (!size_wanted(size)) return 0;
    u64 tid = bpf_get_current_pid_tgid();
    sizes.update(&tid, &size);
    return 0;
}
static int alloc_exit(struct pt_regs *ctx, u64 address) {
    u64 tid = bpf_get_current_pid_tgid();
    u64 *size = sizes.lookup(&tid);
    if (!size) return 0;
    u64 s = *size;
    sizes.delete(&tid);
    if (address) record(ctx, address, s);
    return 0;
}
int free_enter(struct pt_regs *ctx) { u64 a = PT_REGS_PARM1(ctx); allocs.delete(&a); return 0; }
int malloc_enter(struct pt_regs *ctx) { return alloc_enter(PT_REGS_PARM1(ctx)); }
int malloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int calloc_enter(struct pt_regs *ctx) { return alloc_enter(PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx)); }
int calloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int realloc_enter(struct pt_regs *ctx) { u64 a = PT_REGS_PARM1(ctx); allocs.delete(&a); return alloc_enter(PT_REGS_PARM2(ctx)); }
int realloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int aligned_alloc_enter(struct pt_regs *ctx) { return alloc_enter(PT_REGS_PARM2(ctx)); }
int aligned_alloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int memalign_enter(struct pt_regs *ctx) { return alloc_enter(PT_REGS_PARM2(ctx)); }
int memalign_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int valloc_enter(struct pt_regs *ctx) { return alloc_enter(PT_REGS_PARM1(ctx)); }
int valloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int posix_memalign_enter(struct pt_regs *ctx) {
    u64 tid = bpf_get_current_pid_tgid();
    u64 memptr = PT_REGS_PARM1(ctx);
    memptrs.update(&tid, &memptr);
    return alloc_enter(PT_REGS_PARM3(ctx));
}
int posix_memalign_exit(struct pt_regs *ctx) {
    u64 tid = bpf_get_current_pid_tgid();
    u64 *memptr = memptrs.lookup(&tid);
    if (!memptr) return 0;
    u64 where = *memptr, address = 0;
    memptrs.delete(&tid);
    if (PT_REGS_RC(ctx) != 0) { sizes.delete(&tid); return 0; }
    bpf_probe_read_user(&address, sizeof(address), (void *)where);
    return alloc_exit(ctx, address);
}
`;
}

/** libc functions with both probes (free has only an entry probe). */
export const USER_ALLOCATORS = ["malloc", "calloc", "realloc", "aligned_alloc", "memalign", "valloc", "posix_memalign"] as const;

/** Kernel mode: the kmem tracepoints (the ones this kernel has are attached by autoload). */
export function kernelProgram(f: MemleakFilter, tracepoints: readonly string[]): string {
  const has = (tp: string): boolean => tracepoints.includes(`kmem:${tp}`);
  let text = COMMON(f, "0");
  const alloc = (tp: string, addr: string, size: string): string => `
TRACEPOINT_PROBE(kmem, ${tp}) {
    u64 size = ${size};
    if (!size_wanted(size)) return 0;
    record(args, ${addr}, size);
    return 0;
}`;
  const free = (tp: string, addr: string): string => `
TRACEPOINT_PROBE(kmem, ${tp}) { u64 a = ${addr}; allocs.delete(&a); return 0; }`;
  if (has("kmalloc")) text += alloc("kmalloc", "(u64)args->ptr", "args->bytes_alloc");
  if (has("kmalloc_node")) text += alloc("kmalloc_node", "(u64)args->ptr", "args->bytes_alloc");
  if (has("kfree")) text += free("kfree", "(u64)args->ptr");
  if (has("kmem_cache_alloc")) text += alloc("kmem_cache_alloc", "(u64)args->ptr", "args->bytes_alloc");
  if (has("kmem_cache_alloc_node")) text += alloc("kmem_cache_alloc_node", "(u64)args->ptr", "args->bytes_alloc");
  if (has("kmem_cache_free")) text += free("kmem_cache_free", "(u64)args->ptr");
  if (has("mm_page_alloc")) text += alloc("mm_page_alloc", "args->pfn", `(u64)${f.pageSize} << args->order`);
  if (has("mm_page_free")) text += free("mm_page_free", "args->pfn");
  return text;
}

export const KERNEL_TRACEPOINTS = ["kmem:kmalloc", "kmem:kfree", "kmem:kmalloc_node?", "kmem:kmem_cache_alloc?", "kmem:kmem_cache_alloc_node?",
  "kmem:kmem_cache_free?", "kmem:mm_page_alloc?", "kmem:mm_page_free?"];
