// tc ingress classifier: a direct-action tc program on a device's ingress classifies every packet by IP protocol
// and counts packets and bytes per class, letting everything through (TC_ACT_OK). It walks the headers with
// BCC's bcc/proto.h cursor types. Attached through a TCX link where the kernel has TCX (gone when the process
// dies), else a clsact qdisc and cls_bpf filter over rtnetlink (removed on exit).
//
//   node dist/examples/tc-ingress-classifier.js DEVICE [--duration SECONDS]
import { BPF } from "../src/api/bpf.js";
import { positional, runOptions, untilAborted } from "./lib/run.js";

const dev = positional("tc-ingress-classifier DEVICE [--duration SECONDS]");
const { signal } = runOptions();

const b = await BPF.load({
  text: `
#include <bcc/proto.h>

struct class_t { u64 packets; u64 bytes; };
BPF_HASH(classes, u32, struct class_t, 256);

int classify(struct __sk_buff *skb) {
    u8 *cursor = 0;
    u32 class = 256;                      /* not IPv4 */
    struct ethernet_t *ethernet = cursor_advance(cursor, sizeof(*ethernet));
    if (ethernet->type == 0x0800) {
        struct ip_t *ip = cursor_advance(cursor, sizeof(*ip));
        class = ip->nextp;
    }
    struct class_t zero = {};
    struct class_t *c = classes.lookup_or_try_init(&class, &zero);
    if (c) {
        __sync_fetch_and_add(&c->packets, 1);
        __sync_fetch_and_add(&c->bytes, skb->len);
    }
    return TC_ACT_OK;
}
`,
});

const names: Record<number, string> = { 1: "icmp", 6: "tcp", 17: "udp", 256: "non-ip" };
try {
  b.attachTc({ dev, fnName: "classify", direction: "ingress" });
  console.log(`Classifying ingress packets on ${dev}. Ctrl-C to end.`);
  await untilAborted(signal);
  console.log(`${"CLASS".padEnd(8)} ${"PACKETS".padStart(10)} ${"BYTES".padStart(12)}`);
  const rows = [...b.table("classes").entries()] as [number, { packets: bigint; bytes: bigint }][];
  for (const [cls, v] of rows.sort((x, y) => x[0] - y[0])) {
    console.log(`${(names[cls] ?? `proto ${cls}`).padEnd(8)} ${String(v.packets).padStart(10)} ${String(v.bytes).padStart(12)}`);
  }
} finally {
  b.close();
}
