// Load generator for bench/events.ts: prints its pid, waits for "go" on stdin, makes N getppid() system calls
// (each one fires the syscalls:sys_enter_getppid tracepoint the consumers trace), and reports how long that took.
// On "flush" it makes one more call on every online CPU, so a perf ring that dropped samples gets the chance to
// write its PERF_RECORD_LOST record (the kernel emits it at the next output that finds room on that CPU).
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int wait_for(const char *word) {
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, word, strlen(word)) == 0) return 0;
  }
  return -1;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000000;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("pid %d\n", getpid());
  if (wait_for("go")) return 1;
  long long start = now_ns();
  for (long i = 0; i < n; i++) syscall(SYS_getppid); // not cached by libc: one real system call each
  long long end = now_ns();
  printf("done %ld %lld %lld\n", n, start, end);
  if (wait_for("flush")) return 1;
  int flushed = 0;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  for (int cpu = 0; cpu < ncpu; cpu++) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) == 0) {
      syscall(SYS_getppid);
      flushed++;
    }
  }
  printf("flushed %d\n", flushed);
  return 0;
}
