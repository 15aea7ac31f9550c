/* Packet source for `npm run bench:net`: blasts one 60-byte UDP frame at DST_MAC out of DEVICE through a packet
 * socket (sendmmsg batches) for SECONDS, then prints how many it sent, the elapsed ns and its own CPU ns (user +
 * system: on a veth pair the peer's receive path, generic XDP included, runs in the sender's softirq context, so
 * CPU time per packet stays meaningful on a busy machine). It runs in the other namespace of the benchmark's
 * veth pair, so the frames only ever reach the peer device. Built at bench time. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: sender DEVICE DST_MAC SECONDS\n");
		return 2;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(argv[1]), .sll_halen = 6 };
	unsigned char frame[60] = { 0 };
	unsigned int mac[6];
	if (fd < 0 || !addr.sll_ifindex || sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
		fprintf(stderr, "bad device or MAC\n");
		return 1;
	}
	for (int i = 0; i < 6; i++)
		frame[i] = addr.sll_addr[i] = mac[i];
	frame[6] = 0x02; frame[11] = 0x01;                     /* source MAC 02:00:00:00:00:01 */
	frame[12] = 0x08; frame[13] = 0x00;                    /* IPv4 */
	frame[14] = 0x45; frame[17] = 46; frame[22] = 64; frame[23] = 17; /* UDP, TTL 64 */
	frame[26] = 10; frame[27] = 200; frame[29] = 1;         /* 10.200.0.1 -> 10.200.0.2 */
	frame[30] = 10; frame[31] = 200; frame[33] = 2;
	frame[35] = 9; frame[37] = 9; frame[39] = 26;           /* port 9 -> 9 (discard) */
	struct iovec iov = { frame, sizeof(frame) };
	struct mmsghdr msgs[BATCH];
	for (int i = 0; i < BATCH; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &addr, .msg_namelen = sizeof(addr), .msg_iov = &iov, .msg_iovlen = 1 } };
	double seconds = atof(argv[3]), t0 = now_ns(), end = t0 + seconds * 1e9, t;
	unsigned long long sent = 0;
	while ((t = now_ns()) < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);
		if (n > 0)
			sent += n;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
	printf("%llu %.0f %.0f\n", sent, t - t0, cpu);
	return 0;
}
