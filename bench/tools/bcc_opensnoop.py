# The BCC side of the opensnoop per-event benchmark: the same BPF program tsbcc's opensnoop loads (argv[1], BCC's
# dialect), run by BCC's Python runtime, printing BCC opensnoop's columns for every event (to stdout).
import sys
from bcc import BPF

b = BPF(text=sys.argv[1])
out = sys.stdout
def handle(cpu, data, size):
    ev = b["events"].event(data)
    fd = -1 if ev.ret < 0 else ev.ret
    err = -ev.ret if ev.ret < 0 else 0
    out.write("%-6d %-16s %4d %3d %s\n" % (ev.pid, ev.comm.decode("utf-8", "replace"), fd, err, ev.path.decode("utf-8", "replace")))
b["events"].open_perf_buffer(handle, page_cnt=64)
print("%-6s %-16s %4s %3s %s" % ("PID", "COMM", "FD", "ERR", "PATH"), flush=True)
try:
    while True:
        b.perf_buffer_poll()
except KeyboardInterrupt:
    pass
