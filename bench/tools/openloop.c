/* Load for the opensnoop benchmark: waits for one byte on stdin, then opens and closes `path` at about `rate`
 * opens per second for `seconds`, and prints how many opens it made. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/etc/hostname";
  double rate = argc > 2 ? atof(argv[2]) : 100000;
  double seconds = argc > 3 ? atof(argv[3]) : 3;
  char c;
  if (read(0, &c, 1) < 0) return 2;
  double start = now();
  long n = 0;
  for (;;) {
    double t = now() - start;
    if (t >= seconds) break;
    /* Pace in batches of 100 so the clock is read rarely. */
    if (n > t * rate) continue;
    for (int i = 0; i < 100; i++) {
      int fd = open(path, O_RDONLY);
      if (fd >= 0) close(fd);
      n++;
    }
  }
  printf("%ld\n", n);
  return 0;
}
