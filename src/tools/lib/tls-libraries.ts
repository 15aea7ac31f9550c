// The TLS libraries sslsniff probes and where their plaintext calls are: OpenSSL (SSL_write/SSL_read, and
// SSL_do_handshake for --handshake) in libssl or inside a program that links it statically (node), GnuTLS
// (gnutls_record_send/recv in libgnutls) and NSS (NSPR's PR_Write/PR_Send/PR_Read/PR_Recv in libnspr4). In every
// one the data buffer is the second argument and the return value is the bytes moved.
import { BPF } from "../../index.js";
import { UsageError } from "./errors.js";

export type TlsKind = "openssl" | "gnutls" | "nss";

export interface TlsLibrary {
  kind: TlsKind;
  /** The binary probed (a library path, /proc/PID/exe, or an --extra-lib path). */
  path: string;
  write: readonly string[];
  read: readonly string[];
  /** The handshake function, timed with --handshake (OpenSSL only, as BCC). */
  handshake?: string;
}

const SYMBOLS: Record<TlsKind, Omit<TlsLibrary, "kind" | "path">> = {
  openssl: { write: ["SSL_write"], read: ["SSL_read"], handshake: "SSL_do_handshake" },
  gnutls: { write: ["gnutls_record_send"], read: ["gnutls_record_recv"] },
  nss: { write: ["PR_Write", "PR_Send"], read: ["PR_Read", "PR_Recv"] },
};

/** The library each kind is found as by default (BCC's names: "ssl", "gnutls", "nspr4"). */
const LIBRARY: Record<TlsKind, string> = { openssl: "ssl", gnutls: "gnutls", nss: "nspr4" };

export const TLS_KINDS = Object.keys(SYMBOLS) as TlsKind[];

export interface TlsChoice {
  pid?: number;
  noOpenssl?: boolean;
  noGnutls?: boolean;
  noNss?: boolean;
  /** "kind:PATH" (kind openssl, gnutls or nss), or a bare PATH for OpenSSL. */
  extraLibs?: readonly string[];
}

function has(path: string, names: readonly string[]): boolean {
  try {
    return names.every((n) => BPF.getUserFunctions(path, n).length > 0);
  } catch {
    return false;
  }
}

function library(kind: TlsKind, path: string): TlsLibrary {
  const s = SYMBOLS[kind];
  return { kind, path, write: s.write, read: s.read, ...(s.handshake && has(path, [s.handshake]) ? { handshake: s.handshake } : {}) };
}

/** Parses one --extra-lib value; a wrong kind or a binary without the functions is a usage error. */
export function extraLibrary(tool: string, spec: string): TlsLibrary {
  if (typeof spec !== "string" || spec === "") throw new UsageError(tool, "extra library must be kind:PATH (kind openssl, gnutls or nss)");
  const m = /^([a-z]+):(.+)$/.exec(spec);
  const kind = (m ? m[1] : "openssl") as TlsKind;
  if (m && !TLS_KINDS.includes(kind)) throw new UsageError(tool, `${spec}: unknown library kind '${m[1]}' (openssl, gnutls or nss)`);
  const path = m ? m[2]! : spec;
  const found = BPF.findLibrary(path) ?? path;
  const s = SYMBOLS[kind];
  if (!has(found, [...s.write, ...s.read])) throw new UsageError(tool, `${spec}: no ${[...s.write, ...s.read].join("/")} in ${found}`);
  return library(kind, found);
}

/** The binaries to probe: each kind's system library unless turned off, the pid's own executable, the extras. */
export function findTlsLibraries(tool: string, o: TlsChoice): TlsLibrary[] {
  const out: TlsLibrary[] = [];
  const off: Record<TlsKind, boolean | undefined> = { openssl: o.noOpenssl, gnutls: o.noGnutls, nss: o.noNss };
  for (const kind of TLS_KINDS) {
    if (off[kind]) continue;
    const lib = BPF.findLibrary(LIBRARY[kind], o.pid);
    const s = SYMBOLS[kind];
    if (lib && has(lib, [...s.write, ...s.read])) out.push(library(kind, lib));
  }
  // A program with OpenSSL linked in (node): its own SSL_write/SSL_read.
  const exe = o.pid !== undefined ? `/proc/${o.pid}/exe` : undefined;
  if (exe && has(exe, ["SSL_write", "SSL_read"])) out.push(library("openssl", exe));
  for (const extra of o.extraLibs ?? []) out.push(extraLibrary(tool, extra));
  const seen = new Set<string>();
  return out.filter((l) => !seen.has(l.path) && seen.add(l.path));
}
