/* The libbpf side of `npm run bench:net`: loads the very object tsbcc compiled (same ELF file) with libbpf and
 * does what the benchmark asks, so the two loaders can be compared in one run. Written for this benchmark;
 * built at bench time (gcc -O2 loader.c -lbpf), never committed as a binary.
 *
 *   loader xdp OBJECT PROGRAM DEVICE    attach in generic (SKB) mode, print "ready", wait for stdin to close,
 *                                       print the per-CPU "dropped" sum, detach
 *   loader testrun OBJECT PROGRAM REPEAT FRAME_LEN
 *                                       one BPF_PROG_TEST_RUN of REPEAT runs on a zero UDP frame; print the
 *                                       verdict, the kernel's ns per run and the wall-clock ns of the call */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Warnings only: libbpf's informational lines would interleave with the benchmark's table. */
static int warnings_only(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

static struct bpf_object *open_and_load(const char *path, const char *name, struct bpf_program **prog)
{
	libbpf_set_print(warnings_only);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "open %s failed\n", path);
		exit(1);
	}
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		/* tsbcc's BCC functions live in "prog/<name>": the type is given at load time, as BCC does. */
		bpf_program__set_type(p, BPF_PROG_TYPE_XDP);
		bpf_program__set_autoload(p, strcmp(bpf_program__name(p), name) == 0);
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load %s failed\n", path);
		exit(1);
	}
	*prog = bpf_object__find_program_by_name(obj, name);
	if (!*prog) {
		fprintf(stderr, "no program %s\n", name);
		exit(1);
	}
	return obj;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: loader xdp OBJECT PROGRAM DEVICE | testrun OBJECT PROGRAM REPEAT FRAME_LEN\n");
		return 2;
	}
	struct bpf_program *prog;
	struct bpf_object *obj = open_and_load(argv[2], argv[3], &prog);
	int fd = bpf_program__fd(prog);
	if (strcmp(argv[1], "xdp") == 0) {
		int ifindex = if_nametoindex(argv[4]);
		if (!ifindex || bpf_xdp_attach(ifindex, fd, XDP_FLAGS_SKB_MODE, NULL)) {
			fprintf(stderr, "attach to %s failed\n", argv[4]);
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		char buf[64];
		while (read(0, buf, sizeof(buf)) > 0)
			;
		int map = bpf_object__find_map_fd_by_name(obj, "dropped");
		int ncpu = libbpf_num_possible_cpus();
		unsigned long long *vals = calloc(ncpu, sizeof(*vals)), sum = 0;
		unsigned int key = 0;
		if (map < 0 || bpf_map_lookup_elem(map, &key, vals)) {
			fprintf(stderr, "reading dropped failed\n");
			return 1;
		}
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
		bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
		printf("%llu\n", sum);
	} else if (strcmp(argv[1], "testrun") == 0 && argc >= 6) {
		unsigned int repeat = strtoul(argv[4], NULL, 10);
		size_t len = strtoul(argv[5], NULL, 10);
		unsigned char *frame = calloc(1, len), *out = calloc(1, len + 4096);
		frame[12] = 0x08; frame[14] = 0x45; frame[23] = 17;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .data_out = out,
			    .data_size_out = len + 4096, .repeat = repeat);
		double t0 = now_ns();
		if (bpf_prog_test_run_opts(fd, &opts)) {
			fprintf(stderr, "test run failed\n");
			return 1;
		}
		double wall = now_ns() - t0;
		printf("%u %u %.0f\n", opts.retval, opts.duration, wall);
	}
	bpf_object__close(obj);
	return 0;
}
