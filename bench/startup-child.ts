// One tsbcc start: compile + load + attach the execve snooper, then exit. Prints peak RSS (KiB).
import { BPF } from "../src/api/bpf.js";
import { SNOOPER } from "./startup-program.js";

const b = await BPF.load({ text: SNOOPER });
b.close();
process.stdout.write(`maxrss_kib ${process.resourceUsage().maxRSS}\n`);
