# BCC Python consumer for bench/events.ts. Usage: bcc_consumer.py perf|ring PID PAGES
# Protocol (same for every consumer): print READY once attached; poll; the first SIGUSR2 marks the end of the main
# burst (remember when the last event of it arrived), the second one stops: drain what is left, print one JSON
# line, and exit when stdin closes.
import json, os, signal, sys, time
from bcc import BPF

mode, pid, pages = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
output = {
    "perf": ("BPF_PERF_OUTPUT(events);", "events.perf_submit(args, &e, sizeof(e))"),
    "ring": ("BPF_RINGBUF_OUTPUT(events, %d);" % pages, "events.ringbuf_output(&e, sizeof(e), 0)"),
}[mode]
text = r"""
struct event { u64 ts; u32 pid; u32 tid; u64 seq; };
%s
BPF_ARRAY(stats, u64, 2);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
  u64 id = bpf_get_current_pid_tgid();
  if ((id >> 32) != %d) return 0;
  u32 k0 = 0, k1 = 1;
  u64 *seen = stats.lookup(&k0);
  if (!seen) return 0;
  __sync_fetch_and_add(seen, 1);
  struct event e = {};
  e.ts = bpf_ktime_get_ns();
  e.pid = id >> 32;
  e.tid = (u32)id;
  e.seq = *seen;
  if (%s) {
    u64 *failed = stats.lookup(&k1);
    if (failed) __sync_fetch_and_add(failed, 1);
  }
  return 0;
}
""" % (output[0], pid, output[1])

b = BPF(text=text)
delivered = 0
lost = 0
signals = 0
last_ns = 0
main_last_ns = 0

def on_event(*args):
    global delivered
    delivered += 1

def on_lost(count):
    global lost
    lost += count

def on_signal(signum, frame):
    global signals, main_last_ns
    signals += 1
    if signals == 1:
        main_last_ns = last_ns

signal.signal(signal.SIGUSR2, on_signal)
if mode == "perf":
    b["events"].open_perf_buffer(on_event, page_cnt=pages, lost_cb=on_lost)
    poll, consume = b.perf_buffer_poll, b.perf_buffer_consume
else:
    b["events"].open_ring_buffer(on_event)
    poll, consume = b.ring_buffer_poll, b.ring_buffer_consume

print("READY", flush=True)
while signals < 2:
    before = delivered
    poll(100)
    if delivered != before:
        last_ns = time.monotonic_ns()
before = delivered
consume()
if delivered != before:
    last_ns = time.monotonic_ns()
stats = b["stats"]
seen, failed = stats[stats.Key(0)].value, stats[stats.Key(1)].value
if mode == "ring":
    lost = failed  # ring buffers drop in the producer; the program counts it
print(json.dumps({"delivered": delivered, "lost": lost, "seen": seen, "failed": failed, "lastNs": main_last_ns}), flush=True)
sys.stdin.read()
