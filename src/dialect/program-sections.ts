// The ELF section of each program function (docs/DIALECT.md, "Object conventions"): libbpf names for BCC's
// autoloaded prefixes, a section naming the expected attach type for contexts the kernel loads only with one,
// and prog/<name> for everything else (its type is given at load, as BCC's load_func does).

import { splitTracepointName } from "./prescan.js";

/**
 * Program types the kernel loads only with an expected attach type, recognised by their context type: the
 * section names it (src/loader/sections.ts) so that a load without an explicit attach type succeeds. Where
 * one context serves several attach points, the function's name chooses (BCC users name them so), else the
 * function stays in `prog/` and its attach type must be given at load.
 */
function sectionForContext(name: string, ctxType: string): string | undefined {
  const t = ctxType.replace(/\s+/g, " ").replace(/^const /, "");
  if (t === "struct bpf_sockopt *") return /get/i.test(name) ? "cgroup/getsockopt" : "cgroup/setsockopt";
  if (t === "struct bpf_sock_addr *") {
    const hook = /(bind|connect|sendmsg|recvmsg|getpeername|getsockname)(4|6)/i.exec(name);
    return hook ? `cgroup/${hook[1]!.toLowerCase()}${hook[2]}` : undefined;
  }
  if (t === "struct bpf_sk_lookup *") return "sk_lookup";
  if (t === "struct bpf_nf_ctx *") return "netfilter";
  return undefined;
}

/** The ELF section of a program function (docs/DIALECT.md, "Object conventions"); `ctxType`: its first parameter's type. */
export function sectionFor(name: string, ctxType?: string): string {
  const after = (prefix: string): string | undefined => (name.startsWith(prefix) ? name.slice(prefix.length) : undefined);
  const dropModule = (rest: string): string => {
    const i = rest.indexOf("__");
    return i > 0 ? rest.slice(i + 2) : rest;
  };
  let rest: string | undefined;
  if ((rest = after("tracepoint__")) !== undefined) {
    const s = splitTracepointName(rest);
    if (s) return `tracepoint/${s.category}/${s.event}`;
  }
  if ((rest = after("raw_tracepoint__")) !== undefined && rest) return `raw_tracepoint/${rest}`;
  if ((rest = after("kprobe__")) !== undefined && rest) return `kprobe/${rest}`;
  if ((rest = after("kretprobe__")) !== undefined && rest) return `kretprobe/${rest}`;
  if ((rest = after("kfunc__")) !== undefined && rest) return `fentry/${dropModule(rest)}`;
  if ((rest = after("kretfunc__")) !== undefined && rest) return `fexit/${dropModule(rest)}`;
  if ((rest = after("kmod_ret__")) !== undefined && rest) return `fmod_ret/${rest}`;
  if ((rest = after("lsm__")) !== undefined && rest) return `lsm/${rest}`;
  if ((rest = after("bpf_iter__")) !== undefined && rest) return `iter/${rest}`;
  return (ctxType && sectionForContext(name, ctxType)) || `prog/${name}`;
}
