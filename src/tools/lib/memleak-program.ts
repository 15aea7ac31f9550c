// memleak's BPF program: allocations that are not freed yet, by address, with their size, time and stack. User mode
// hooks libc's allocator (entry uprobes keep the size per thread, return uprobes record the address; free and
// realloc drop it); kernel mode reads the kmem tracepoints (kmalloc/kfree, kmem_cache_alloc/free, page alloc/free)
// or, with --percpu, the percpu ones. Options add per-stack totals kept in the kernel (--combined-only), one event
// per allocator call (-t) and dropping a still-recorded block when its address is handed out again (--wa-missing-free).

export interface MemleakFilter {
  minSize?: number;
  maxSize?: number;
  sampleRate?: number;
  pageSize: number;
  /** Keep per-stack totals (combined_allocs) up to date as well. */
  combined?: boolean;
  /** Send a trace_events record per allocator entry, allocator return and free of a recorded block. */
  trace?: boolean;
  /** An address allocated again while still recorded counts as freed first (a free the probes missed). */
  waMissingFree?: boolean;
  /**
   * User mode for a command started stopped by /bin/sh (lib/traced-command.ts): every call is ignored until this
   * pid execs the command (the shell's own allocations before it are not the command's).
   */
  execPid?: number;
}

/** What a trace_events record is (MemleakTraceEvent.kind in this order). */
export const TRACE_KINDS = ["alloc-enter", "alloc-exit", "free"] as const;

const COMMON = (f: MemleakFilter, stackFlags: string) => `
struct alloc_info_t {
    u64 size;
    u64 timestamp_ns;
    int stack_id;
};
struct combined_info_t {
    u64 total_size;
    u64 number_of_allocs;
};
struct trace_t {
    u64 ts;
    u64 size;
    u64 address;
    u32 pid;
    u32 tid;
    u32 cpu;
    u32 kind;
    char comm[TASK_COMM_LEN];
};
BPF_HASH(sizes, u64, u64, 10240);
BPF_HASH(allocs, u64, struct alloc_info_t, 1000000);
BPF_HASH(memptrs, u64, u64, 10240);
BPF_HASH(combined_allocs, u64, struct combined_info_t, 10240);
BPF_STACK_TRACE(stack_traces, 10240);
${f.trace ? "BPF_PERF_OUTPUT(trace_events);" : ""}

${f.execPid !== undefined ? `BPF_ARRAY(exec_seen, u32, 1);
TRACEPOINT_PROBE(sched, sched_process_exec) {
    if ((bpf_get_current_pid_tgid() >> 32) != ${f.execPid}) return 0;
    int zero = 0;
    u32 one = 1;
    exec_seen.update(&zero, &one);
    return 0;
}
static int started(void) { int zero = 0; u32 *seen = exec_seen.lookup(&zero); return seen && *seen; }` : "static int started(void) { return 1; }"}

static int size_wanted(u64 size) {
    if (!started()) return 0;
    if (${f.minSize ?? 0} > 0 && size < ${f.minSize ?? 0}) return 0;
    if (${f.maxSize ?? 0} > 0 && size > ${f.maxSize ?? 0}) return 0;
    if (${f.sampleRate ?? 1} > 1 && (bpf_ktime_get_ns() % ${f.sampleRate ?? 1}) != 0) return 0;
    return 1;
}

static void trace(void *ctx, u32 kind, u64 size, u64 address) {
${f.trace ? `    struct trace_t t = {};
    u64 id = bpf_get_current_pid_tgid();
    t.ts = bpf_ktime_get_ns();
    t.size = size;
    t.address = address;
    t.pid = id >> 32;
    t.tid = (u32)id;
    t.cpu = bpf_get_smp_processor_id();
    t.kind = kind;
    bpf_get_current_comm(&t.comm, sizeof(t.comm));
    trace_events.perf_submit(ctx, &t, sizeof(t));` : ""}
}

static void combine(int stack_id, u64 size, int sign) {
    if (!${f.combined ? 1 : 0}) return;
    u64 key = (u64)(s64)stack_id;
    struct combined_info_t zero = {};
    struct combined_info_t *c = combined_allocs.lookup_or_try_init(&key, &zero);
    if (!c) return;
    if (sign > 0) {
        __sync_fetch_and_add(&c->total_size, size);
        __sync_fetch_and_add(&c->number_of_allocs, 1);
    } else {
        __sync_fetch_and_add(&c->total_size, -size);
        __sync_fetch_and_add(&c->number_of_allocs, -1);
    }
}

static void forget(void *ctx, u64 address) {
    if (!started()) return;
    struct alloc_info_t *info = allocs.lookup(&address);
    if (!info) return;
    u64 size = info->size;
    combine(info->stack_id, size, -1);
    allocs.delete(&address);
    trace(ctx, 2, size, address);
}

static void record(void *ctx, u64 address, u64 size) {
    if (${f.waMissingFree ? 1 : 0}) forget(ctx, address);
    struct alloc_info_t info = {};
    info.size = size;
    info.timestamp_ns = bpf_ktime_get_ns();
    info.stack_id = stack_traces.get_stackid(ctx, ${stackFlags});
    allocs.update(&address, &info);
    combine(info.stack_id, size, 1);
}
`;

/** User mode: uprobes named <fn>_enter / <fn>_exit (see USER_ALLOCATORS). */
export function userProgram(f: MemleakFilter): string {
  return COMMON(f, "BPF_F_USER_STACK") + `
static int alloc_enter(void *ctx, u64 size) {
    if (!size_wanted(size)) return 0;
    u64 tid = bpf_get_current_pid_tgid();
    sizes.update(&tid, &size);
    trace(ctx, 0, size, 0);
    return 0;
}
static int alloc_exit(struct pt_regs *ctx, u64 address) {
    u64 tid = bpf_get_current_pid_tgid();
    u64 *size = sizes.lookup(&tid);
    if (!size) return 0;
    u64 s = *size;
    sizes.delete(&tid);
    if (address) record(ctx, address, s);
    trace(ctx, 1, s, address);
    return 0;
}
int free_enter(struct pt_regs *ctx) { forget(ctx, PT_REGS_PARM1(ctx)); return 0; }
int malloc_enter(struct pt_regs *ctx) { return alloc_enter(ctx, PT_REGS_PARM1(ctx)); }
int malloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int calloc_enter(struct pt_regs *ctx) { return alloc_enter(ctx, PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx)); }
int calloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int realloc_enter(struct pt_regs *ctx) { forget(ctx, PT_REGS_PARM1(ctx)); return alloc_enter(ctx, PT_REGS_PARM2(ctx)); }
int realloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int aligned_alloc_enter(struct pt_regs *ctx) { return alloc_enter(ctx, PT_REGS_PARM2(ctx)); }
int aligned_alloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int memalign_enter(struct pt_regs *ctx) { return alloc_enter(ctx, PT_REGS_PARM2(ctx)); }
int memalign_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int valloc_enter(struct pt_regs *ctx) { return alloc_enter(ctx, PT_REGS_PARM1(ctx)); }
int valloc_exit(struct pt_regs *ctx) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
int posix_memalign_enter(struct pt_regs *ctx) {
    u64 tid = bpf_get_current_pid_tgid();
    u64 memptr = PT_REGS_PARM1(ctx);
    memptrs.update(&tid, &memptr);
    return alloc_enter(ctx, PT_REGS_PARM3(ctx));
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

/** Kernel mode: the kmem tracepoints, or the percpu ones (those this kernel has are attached by autoload). */
export function kernelProgram(f: MemleakFilter, tracepoints: readonly string[]): string {
  const has = (tp: string): boolean => tracepoints.includes(tp);
  let text = COMMON(f, "0");
  const alloc = (cat: string, tp: string, addr: string, size: string): string => `
TRACEPOINT_PROBE(${cat}, ${tp}) {
    u64 size = ${size};
    if (!size_wanted(size)) return 0;
    trace(args, 0, size, 0);
    record(args, ${addr}, size);
    trace(args, 1, size, ${addr});
    return 0;
}`;
  const free = (cat: string, tp: string, addr: string): string => `
TRACEPOINT_PROBE(${cat}, ${tp}) { forget(args, ${addr}); return 0; }`;
  if (has("kmem:kmalloc")) text += alloc("kmem", "kmalloc", "(u64)args->ptr", "args->bytes_alloc");
  if (has("kmem:kmalloc_node")) text += alloc("kmem", "kmalloc_node", "(u64)args->ptr", "args->bytes_alloc");
  if (has("kmem:kfree")) text += free("kmem", "kfree", "(u64)args->ptr");
  if (has("kmem:kmem_cache_alloc")) text += alloc("kmem", "kmem_cache_alloc", "(u64)args->ptr", "args->bytes_alloc");
  if (has("kmem:kmem_cache_alloc_node")) text += alloc("kmem", "kmem_cache_alloc_node", "(u64)args->ptr", "args->bytes_alloc");
  if (has("kmem:kmem_cache_free")) text += free("kmem", "kmem_cache_free", "(u64)args->ptr");
  if (has("kmem:mm_page_alloc")) text += alloc("kmem", "mm_page_alloc", "args->pfn", `(u64)${f.pageSize} << args->order`);
  if (has("kmem:mm_page_free")) text += free("kmem", "mm_page_free", "args->pfn");
  // The percpu pointer is an offset into every CPU's area; the size is what was asked for one CPU.
  if (has("percpu:percpu_alloc_percpu")) text += alloc("percpu", "percpu_alloc_percpu", "(u64)args->ptr", "args->size");
  if (has("percpu:percpu_free_percpu")) text += free("percpu", "percpu_free_percpu", "(u64)args->ptr");
  return text;
}

export const KERNEL_TRACEPOINTS = ["kmem:kmalloc", "kmem:kfree", "kmem:kmalloc_node?", "kmem:kmem_cache_alloc?", "kmem:kmem_cache_alloc_node?",
  "kmem:kmem_cache_free?", "kmem:mm_page_alloc?", "kmem:mm_page_free?"];

export const PERCPU_TRACEPOINTS = ["percpu:percpu_alloc_percpu", "percpu:percpu_free_percpu"];
