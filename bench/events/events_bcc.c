// BCC-dialect twin of events.bpf.c, compiled by the BCC Python consumer and by tsbcc's BPF.load from this same
// file. The harness passes -DTARGET_PID=<pid>, and -DUSE_RINGBUF=1 -DRING_PAGES=<n> for the ring buffer variant.
struct event {
  u64 ts;
  u32 pid;
  u32 tid;
  u64 seq;
};

#if USE_RINGBUF
BPF_RINGBUF_OUTPUT(events, RING_PAGES);
#else
BPF_PERF_OUTPUT(events);
#endif
BPF_ARRAY(stats, u64, 2);

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
  u64 id = bpf_get_current_pid_tgid();
  if ((id >> 32) != TARGET_PID) return 0;
  u32 k0 = 0, k1 = 1;
  u64 *seen = stats.lookup(&k0);
  if (!seen) return 0;
  __sync_fetch_and_add(seen, 1);
  struct event e = {};
  e.ts = bpf_ktime_get_ns();
  e.pid = id >> 32;
  e.tid = (u32)id;
  e.seq = *seen;
#if USE_RINGBUF
  int err = events.ringbuf_output(&e, sizeof(e), 0);
#else
  int err = events.perf_submit(args, &e, sizeof(e));
#endif
  if (err) {
    u64 *failed = stats.lookup(&k1);
    if (failed) __sync_fetch_and_add(failed, 1);
  }
  return 0;
}
