// libbpf consumer for bench/events.ts. Usage: libbpf_consumer OBJ perf|ring PID PAGES
// Same protocol as every consumer: print READY once attached; poll; the first SIGUSR2 marks the end of the main
// burst, the second stops: drain what is left, print one JSON line, exit when stdin closes. Callbacks only count,
// like the other consumers'.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t signals;
static unsigned long long delivered, lost;

static void on_signal(int sig) { (void)sig; signals++; }
static void on_perf_sample(void *ctx, int cpu, void *data, __u32 size) { (void)ctx; (void)cpu; (void)data; (void)size; delivered++; }
static void on_perf_lost(void *ctx, int cpu, __u64 count) { (void)ctx; (void)cpu; lost += count; }
static int on_ring_sample(void *ctx, void *data, size_t size) { (void)ctx; (void)data; (void)size; delivered++; return 0; }

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int fail(const char *what, int err) {
  fprintf(stderr, "libbpf_consumer: %s: %s\n", what, strerror(err < 0 ? -err : err));
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s OBJ perf|ring PID PAGES\n", argv[0]);
    return 2;
  }
  const char *path = argv[1];
  int ring = strcmp(argv[2], "ring") == 0;
  unsigned pid = (unsigned)atoi(argv[3]);
  size_t pages = (size_t)atol(argv[4]);
  setvbuf(stdout, NULL, _IOLBF, 0);

  struct bpf_object *obj = bpf_object__open_file(path, NULL);
  if (!obj) return fail("open", errno);
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, obj) {
    const char *name = bpf_program__name(prog);
    bpf_program__set_autoload(prog, strcmp(name, ring ? "getppid_ring" : "getppid_perf") == 0);
  }
  struct bpf_map *rodata = NULL, *map;
  bpf_object__for_each_map(map, obj) {
    if (strstr(bpf_map__name(map), ".rodata")) rodata = map;
  }
  size_t rosize = 0;
  const void *init = rodata ? bpf_map__initial_value(rodata, &rosize) : NULL;
  if (!init || rosize < sizeof(__u32)) return fail("find .rodata target_pid", EINVAL);
  char *ro = malloc(rosize);
  memcpy(ro, init, rosize);
  memcpy(ro, &pid, sizeof pid); /* target_pid is the only read-only global, at offset 0 */
  if (bpf_map__set_initial_value(rodata, ro, rosize)) return fail("set target_pid", EINVAL);
  free(ro);
  struct bpf_map *events = bpf_object__find_map_by_name(obj, ring ? "ring_events" : "perf_events");
  if (ring && bpf_map__set_max_entries(events, (__u32)(pages * 4096))) return fail("ring size", EINVAL);
  int err = bpf_object__load(obj);
  if (err) return fail("load", err);
  prog = bpf_object__find_program_by_name(obj, ring ? "getppid_ring" : "getppid_perf");
  struct bpf_link *link = bpf_program__attach(prog);
  if (!link) return fail("attach", errno);

  struct perf_buffer *pb = NULL;
  struct ring_buffer *rb = NULL;
  if (ring) rb = ring_buffer__new(bpf_map__fd(events), on_ring_sample, NULL, NULL);
  else pb = perf_buffer__new(bpf_map__fd(events), pages, on_perf_sample, on_perf_lost, NULL, NULL);
  if (!rb && !pb) return fail("open reader", errno);

  signal(SIGUSR2, on_signal);
  printf("READY\n");
  long long last_ns = 0, main_last_ns = 0;
  unsigned long long wakeups = 0; /* poll calls that delivered something */
  while (signals < 2) {
    if (signals == 1 && !main_last_ns) main_last_ns = last_ns ? last_ns : -1;
    unsigned long long before = delivered;
    int n = ring ? ring_buffer__poll(rb, 100) : perf_buffer__poll(pb, 100);
    if (n < 0 && n != -EINTR) return fail("poll", n);
    if (delivered != before) {
      last_ns = now_ns();
      wakeups++;
    }
  }
  unsigned long long before = delivered;
  if (ring) ring_buffer__consume(rb);
  else perf_buffer__consume(pb);
  if (delivered != before) last_ns = now_ns();

  __u64 seen = 0, failed = 0;
  __u32 k = 0;
  int stats = bpf_map__fd(bpf_object__find_map_by_name(obj, "stats"));
  bpf_map_lookup_elem(stats, &k, &seen);
  k = 1;
  bpf_map_lookup_elem(stats, &k, &failed);
  if (ring) lost = failed; /* ring buffers drop in the producer; the program counts it */
  printf("{\"delivered\": %llu, \"lost\": %llu, \"seen\": %llu, \"failed\": %llu, \"lastNs\": %lld, \"wakeups\": %llu}\n",
         delivered, lost, (unsigned long long)seen, (unsigned long long)failed, main_last_ns > 0 ? main_last_ns : 0, wakeups);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {}
  ring_buffer__free(rb);
  perf_buffer__free(pb);
  bpf_link__destroy(link);
  bpf_object__close(obj);
  return 0;
}
