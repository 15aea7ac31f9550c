// A separate process for the networking tests: attaches as told inside the namespace it was started in
// (`ip netns exec`), prints one JSON line, then waits on stdin, so the test can SIGKILL it while attached.
// Modes: "tc <dev> <via>", "xdp <dev> <via>", "unpriv-xdp <dev>" (loads as root, drops to nobody, attaches).
import { BPF } from "../../../src/api/bpf.js";
import { TC_ICMP_COUNT, XDP_ICMP_DROP } from "./programs.js";

const [mode, dev, via] = process.argv.slice(2);
const say = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

if (mode === "tc") {
  const b = await BPF.load({ text: TC_ICMP_COUNT });
  b.attachTc({ dev: dev!, fnName: "tc_icmp_count", via: via as "tcx" | "netlink" });
  say({ ready: true });
} else if (mode === "xdp") {
  const b = await BPF.load({ text: XDP_ICMP_DROP });
  b.attachXdp(dev!, "xdp_icmp_drop", { mode: "generic", via: via as "link" | "netlink" });
  say({ ready: true });
} else if (mode === "unpriv-xdp" || mode === "unpriv-tc") {
  const b = await BPF.load({ text: mode === "unpriv-xdp" ? XDP_ICMP_DROP : TC_ICMP_COUNT });
  const fn = mode === "unpriv-xdp" ? b.loadFunc("xdp_icmp_drop", BPF.XDP) : b.loadFunc("tc_icmp_count", BPF.SCHED_CLS);
  process.setuid!(65534);
  try {
    if (mode === "unpriv-xdp") b.attachXdp(dev!, fn, { mode: "generic", via: via as "link" | "netlink" | undefined });
    else b.attachTc({ dev: dev!, fn, via: via as "tcx" | "netlink" | undefined });
    say({ attached: true });
  } catch (e) {
    say({ code: (e as { code?: string }).code, message: (e as Error).message });
  }
  process.exit(0);
}
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
