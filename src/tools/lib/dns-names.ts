// Which name a connected address was looked up as (tcpconnect -d). BCC parses DNS replies caught by kprobes on
// udp_recvmsg; here a uprobe/uretprobe pair on libc's getaddrinfo reads the caller's result list instead (works
// without kprobes, and also sees /etc/hosts and other NSS answers that never cross a socket): each IPv4/IPv6
// address of a successful lookup of a name (not of an address given as text) is stored, in the kernel, with the name and the time, in an LRU map. A connect
// looks its destination up there in the same program, so the name is in the event itself, never raced.
// Resolvers that bypass libc's getaddrinfo (static binaries, Go's own resolver, raw DNS) are not seen.
import type { BPF } from "../../api/bpf.js";
import { AddressFamily } from "../../sys/abi.js";

export const DNS_NAME_LEN = 80;
/** getaddrinfo's result list is walked this far (an entry per address and socket type). */
const MAX_RESULTS = 12;
/** BCC marks an answer older than this (ms) with its age. */
export const DNS_DELAY_MS = 100;

/** The uprobe targets (source-candidate form) the DNS mode adds. */
export const DNS_TARGETS = ["c:getaddrinfo"] as const;

/**
 * Declares the map `dns_names` (address -> name, time) filled by `dns_lookup_entry`/`dns_lookup_return`, and
 * `dns_name_of(family, addr16, now, name_out)`: copies the name an address resolved from into `name_out`
 * (DNS_NAME_LEN bytes) and returns its age in ns, or returns 0 and leaves `name_out` alone when there is none.
 */
export function dnsNamesC(): string {
  return `
struct dns_key_t {
    u32 family;
    u8 addr[16];
};
struct dns_name_t {
    u64 ts;
    char name[${DNS_NAME_LEN}];
};
struct dns_lookup_t {
    u64 result;
    char name[${DNS_NAME_LEN}];
};
// struct addrinfo of the C library (x86-64/aarch64 LP64 layout).
struct user_addrinfo_t {
    int ai_flags;
    int ai_family;
    int ai_socktype;
    int ai_protocol;
    u32 ai_addrlen;
    u32 pad;
    u64 ai_addr;
    u64 ai_canonname;
    u64 ai_next;
};
BPF_HASH(dns_lookups, u32, struct dns_lookup_t, 1024);
BPF_TABLE("lru_hash", struct dns_key_t, struct dns_name_t, dns_names, 10240);

// An address given as text ("10.1.2.3", anything with ':') is not a name: it must not replace one.
static int is_address_literal(const char *s) {
    for (int i = 0; i < ${DNS_NAME_LEN}; i++) {
        char c = s[i];
        if (c == 0) return i > 0;
        if (c == ':') return 1;
        if ((c < '0' || c > '9') && c != '.') return 0;
    }
    return 0;
}

int dns_lookup_entry(struct pt_regs *ctx) {
    if (!PT_REGS_PARM1(ctx) || !PT_REGS_PARM4(ctx)) return 0;
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct dns_lookup_t l = {};
    l.result = PT_REGS_PARM4(ctx);
    bpf_probe_read_user_str(&l.name, sizeof(l.name), (void *)PT_REGS_PARM1(ctx));
    if (is_address_literal(l.name)) return 0;
    dns_lookups.update(&tid, &l);
    return 0;
}

int dns_lookup_return(struct pt_regs *ctx) {
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct dns_lookup_t *l = dns_lookups.lookup(&tid);
    if (!l) return 0;
    u64 ai = 0;
    if (PT_REGS_RC(ctx) != 0 || bpf_probe_read_user(&ai, sizeof(ai), (void *)l->result)) {
        dns_lookups.delete(&tid);
        return 0;
    }
    struct dns_name_t v = {};
    v.ts = bpf_ktime_get_ns();
    __builtin_memcpy(&v.name, l->name, sizeof(v.name));
    #pragma unroll
    for (int i = 0; i < ${MAX_RESULTS}; i++) {
        if (!ai) break;
        struct user_addrinfo_t a = {};
        if (bpf_probe_read_user(&a, sizeof(a), (void *)ai)) break;
        struct dns_key_t k = {};
        k.family = a.ai_family;
        int ok = 0;
        if (a.ai_family == ${AddressFamily.AF_INET}) ok = !bpf_probe_read_user(&k.addr, 4, (void *)(a.ai_addr + 4));
        else if (a.ai_family == ${AddressFamily.AF_INET6}) ok = !bpf_probe_read_user(&k.addr, 16, (void *)(a.ai_addr + 8));
        if (ok) dns_names.update(&k, &v);
        ai = a.ai_next;
    }
    dns_lookups.delete(&tid);
    return 0;
}

static u64 dns_name_of(u32 family, const u8 *addr, u64 now, char *name_out) {
    struct dns_key_t k = {};
    k.family = family;
    __builtin_memcpy(&k.addr, addr, 16);
    struct dns_name_t *n = dns_names.lookup(&k);
    if (!n) return 0;
    __builtin_memcpy(name_out, n->name, ${DNS_NAME_LEN});
    return now > n->ts ? now - n->ts : 1;
}
`;
}

/** Attaches the lookup probes of dnsNamesC() to libc's getaddrinfo (every process). */
export function attachDnsProbes(b: BPF): void {
  b.attachUprobe({ name: "c", sym: "getaddrinfo", fnName: "dns_lookup_entry" });
  b.attachUretprobe({ name: "c", sym: "getaddrinfo", fnName: "dns_lookup_return" });
}

/** BCC's QUERY column: the name (with its age when older than DNS_DELAY_MS), else "localhost" or "No DNS Query". */
export function queryColumn(remoteAddr: string, query: string | undefined, queryAgeMs: number | undefined): string {
  if (!query) return remoteAddr === "127.0.0.1" || remoteAddr === "::1" ? "localhost" : "No DNS Query";
  return queryAgeMs !== undefined && queryAgeMs > DNS_DELAY_MS ? `${query} (${queryAgeMs.toFixed(3)}ms)` : query;
}
