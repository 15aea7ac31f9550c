// One tsbcc start: compile + load + attach the execve snooper, then exit. Prints peak RSS (KiB).
import { BPF } from "../src/api/bpf.js";
import { SNOOPER } from "./startup-program.js";

// A salt makes the object cache miss while the per-kernel type cache stays warm ("cold compile").
const salt = process.env.TSBCC_BENCH_SALT;
const b = await BPF.load({ text: salt ? `${SNOOPER}\n// ${salt}\n` : SNOOPER });
b.close();
process.stdout.write(`maxrss_kib ${process.resourceUsage().maxRSS}\n`);
