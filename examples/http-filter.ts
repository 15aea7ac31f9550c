// HTTP request-line filter: a socket filter on a raw packet socket keeps only TCP segments whose payload starts
// like an HTTP request or response ("GET ", "POST", "PUT ", "DELETE", "HEAD", "HTTP"); everything else is
// dropped in the kernel. User space reads the kept packets and prints each one's first line with the endpoints.
//
//   node dist/examples/http-filter.js DEVICE [--duration SECONDS]
import { BPF } from "../src/api/bpf.js";
import { positional, runOptions } from "./lib/run.js";

const dev = positional("http-filter DEVICE [--duration SECONDS]");
const { signal } = runOptions();

const b = await BPF.load({
  text: `
#include <bcc/proto.h>

int http_filter(struct __sk_buff *skb) {
    u8 *cursor = 0;
    struct ethernet_t *ethernet = cursor_advance(cursor, sizeof(*ethernet));
    if (ethernet->type != 0x0800) return 0;
    struct ip_t *ip = cursor_advance(cursor, sizeof(*ip));
    if (ip->nextp != 6) return 0;
    u32 ip_len = ip->hlen << 2;
    u32 total = ip->tlen;
    /* The TCP header starts after the IP header's options. */
    u32 tcp_at = sizeof(*ethernet) + ip_len;
    u32 tcp_len = (load_byte(skb, tcp_at + 12) >> 4) << 2;
    u32 payload = tcp_at + tcp_len;
    if (total < ip_len + tcp_len + 4) return 0;
    u8 c0 = load_byte(skb, payload), c1 = load_byte(skb, payload + 1);
    u8 c2 = load_byte(skb, payload + 2), c3 = load_byte(skb, payload + 3);
    if ((c0 == 'G' && c1 == 'E' && c2 == 'T' && c3 == ' ') ||
        (c0 == 'P' && c1 == 'O' && c2 == 'S' && c3 == 'T') ||
        (c0 == 'P' && c1 == 'U' && c2 == 'T' && c3 == ' ') ||
        (c0 == 'D' && c1 == 'E' && c2 == 'L' && c3 == 'E') ||
        (c0 == 'H' && c1 == 'E' && c2 == 'A' && c3 == 'D') ||
        (c0 == 'H' && c1 == 'T' && c2 == 'T' && c3 == 'P'))
        return -1;                        /* keep the whole packet */
    return 0;
}
`,
});

const ip4 = (p: Uint8Array, at: number): string => Array.from(p.subarray(at, at + 4)).join(".");
const sock = BPF.attachRawSocket(b.loadFunc("http_filter", BPF.SOCKET_FILTER), dev);
try {
  console.log(`Watching HTTP on ${dev}. Ctrl-C to end.`);
  for await (const p of sock.packets({ signal })) {
    const ipLen = (p[14]! & 0xf) * 4;
    const tcp = 14 + ipLen;
    const payload = tcp + (p[tcp + 12]! >> 4) * 4;
    const sport = (p[tcp]! << 8) | p[tcp + 1]!;
    const dport = (p[tcp + 2]! << 8) | p[tcp + 3]!;
    const line = Buffer.from(p.subarray(payload)).toString("latin1").split("\r\n")[0];
    console.log(`${ip4(p, 26)}:${sport} -> ${ip4(p, 30)}:${dport}  ${line}`);
  }
} finally {
  sock.close();
  b.close();
}
