// Kernel side of bench/events.ts for the libbpf and tsbcc consumers (the BCC consumer compiles the same logic
// from bcc_consumer.py). One 24-byte event per getppid() of the target process, to a perf buffer or a ring
// buffer; stats[0] counts events produced, stats[1] outputs that failed because the buffer was full.
// Two socket/tc programs feed the same buffers from BPF_PROG_TEST_RUN for the raw drain-rate measurement.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
  __u64 ts;
  __u32 pid;
  __u32 tid;
  __u64 seq;
};

const volatile __u32 target_pid = 0;

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 512 * 1024); /* the consumers may resize it before loading */
} ring_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

static __always_inline int fill(struct event *e) {
  __u32 k = 0;
  __u64 *seen = bpf_map_lookup_elem(&stats, &k);
  __u64 id = bpf_get_current_pid_tgid();
  if (!seen) return -1;
  __sync_fetch_and_add(seen, 1);
  e->ts = bpf_ktime_get_ns();
  e->pid = id >> 32;
  e->tid = (__u32)id;
  e->seq = *seen;
  return 0;
}

static __always_inline void count_failure(long err) {
  __u32 k = 1;
  __u64 *failed;
  if (!err) return;
  failed = bpf_map_lookup_elem(&stats, &k);
  if (failed) __sync_fetch_and_add(failed, 1);
}

static __always_inline int is_target(void) {
  return (bpf_get_current_pid_tgid() >> 32) == target_pid;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int getppid_perf(void *ctx) {
  struct event e;
  if (!is_target() || fill(&e)) return 0;
  count_failure(bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e)));
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int getppid_ring(void *ctx) {
  struct event e;
  if (!is_target() || fill(&e)) return 0;
  count_failure(bpf_ringbuf_output(&ring_events, &e, sizeof(e), 0));
  return 0;
}

/* Raw drain rate: run through BPF_PROG_TEST_RUN, no notification (the reader drains after the burst). */
SEC("socket")
int testrun_ring(struct __sk_buff *skb) {
  struct event e;
  if (fill(&e)) return 0;
  count_failure(bpf_ringbuf_output(&ring_events, &e, sizeof(e), BPF_RB_NO_WAKEUP));
  return 0;
}

SEC("tc")
int testrun_perf(struct __sk_buff *skb) {
  struct event e;
  if (fill(&e)) return 0;
  count_failure(bpf_perf_event_output(skb, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e)));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
