// BCC C fragments shared by event tests. SEQ_START: a probe body's opening that keeps only the process whose pid
// is in `target[0]` and numbers its calls in `seqs[0]` (u64 `seq`, u32 `pid` in scope afterwards); the program
// declares BPF_ARRAY(target, u32, 1) and BPF_ARRAY(seqs, u64, 1). Map methods cannot be used in macros.
export const SEQ_START = `
    int zero = 0;
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    u32 *t = target.lookup(&zero);
    if (!t || *t != pid) return 0;
    u64 *s = seqs.lookup(&zero);
    if (!s) return 0;
    u64 seq = __sync_fetch_and_add(s, 1);`;
