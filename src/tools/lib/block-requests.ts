// The BPF C with which the block tools (biosnoop, biotop) follow one block request from submission to completion:
// requests are keyed by (device, sector), the submitter's pid and comm are taken at the first tracepoint that runs
// in its context (block_io_start where the kernel has it, else block_rq_insert or block_rq_issue), and the issue
// time (and, for the OS queue time, the insert time) is stamped. Each tool writes its own block_rq_complete probe.
import { sourceHas, type ChosenSource } from "./source.js";

/**
 * Defines `struct rq_key_t`, `struct rq_state_t` {insert_ts, issue_ts, pid, comm}, the map `state`,
 * `rq_state(dev, sector)` (lookup or create) and the probes on block_io_start / block_rq_insert (when the chosen
 * source has them) and block_rq_issue. `skip` is a C condition on `args` under which those probes ignore a request
 * (e.g. a disk filter); `stampInsert` records insert_ts at block_rq_insert.
 */
export function blockRequestTrackingC(source: ChosenSource, o: { skip?: string; stampInsert?: boolean } = {}): string {
  const skip = o.skip ? `if (${o.skip}) return 0;\n    ` : "";
  const probe = (event: string, stamp?: string): string => `TRACEPOINT_PROBE(block, ${event}) {
    ${skip}struct rq_state_t *s = rq_state(args->dev, args->sector);
    if (!s) return 0;
    owner(s);
    ${stamp ? `s->${stamp} = bpf_ktime_get_ns();` : ""}
    return 0;
}`;
  return `
struct rq_key_t {
    u64 sector;
    u32 dev;
    u32 pad;
};

struct rq_state_t {
    u64 insert_ts;
    u64 issue_ts;
    u32 pid;
    u32 pad;
    char comm[TASK_COMM_LEN];
};

BPF_HASH(state, struct rq_key_t, struct rq_state_t, 10240);

static struct rq_state_t *rq_state(u32 dev, u64 sector) {
    struct rq_key_t k = {};
    k.sector = sector;
    k.dev = dev;
    struct rq_state_t zero = {};
    return state.lookup_or_try_init(&k, &zero);
}

static void owner(struct rq_state_t *s) {
    if (s->pid) return;
    s->pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(&s->comm, sizeof(s->comm));
}

${sourceHas(source, "block:block_io_start") ? probe("block_io_start") : ""}
${sourceHas(source, "block:block_rq_insert") ? probe("block_rq_insert", o.stampInsert ? "insert_ts" : undefined) : ""}
${probe("block_rq_issue", "issue_ts")}
`;
}

/** Opens a block_rq_complete probe: `k` the request's key and `s` its tracked state (returns when untracked). */
export const COMPLETED_REQUEST_C = `
    struct rq_key_t k = {};
    k.sector = args->sector;
    k.dev = args->dev;
    struct rq_state_t *s = state.lookup(&k);
    if (!s) return 0;`;
