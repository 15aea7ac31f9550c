# BCC Python consumer for bench/events.ts. Usage: bcc_consumer.py perf|ring PID PAGES
# Protocol (same for every consumer): print READY once attached; poll; the first SIGUSR2 marks the end of the main
# burst (remember when the last event of it arrived), the second one stops: drain what is left, print one JSON
# line, and exit when stdin closes.
import json, os, signal, sys, time
from bcc import BPF

mode, pid, pages = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cflags = ["-DTARGET_PID=%d" % pid]
if mode == "ring":
    cflags += ["-DUSE_RINGBUF=1", "-DRING_PAGES=%d" % pages]
b = BPF(src_file=os.path.join(os.path.dirname(os.path.abspath(__file__)), "events_bcc.c"), cflags=cflags)
delivered = 0
lost = 0
signals = 0
last_ns = 0
main_last_ns = 0
wakeups = 0  # poll calls that delivered something

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
        wakeups += 1
before = delivered
consume()
if delivered != before:
    last_ns = time.monotonic_ns()
stats = b["stats"]
seen, failed = stats[stats.Key(0)].value, stats[stats.Key(1)].value
if mode == "ring":
    lost = failed  # ring buffers drop in the producer; the program counts it
print(json.dumps({"delivered": delivered, "lost": lost, "seen": seen, "failed": failed, "lastNs": main_last_ns, "wakeups": wakeups}), flush=True)
sys.stdin.read()
