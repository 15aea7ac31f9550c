// BPF_TABLE_PUBLIC, BPF_TABLE_SHARED and BPF_TABLE("extern", ...): maps one BPF module of this process lends to
// another (BCC's table storage). A public table is known by its name process-wide; a shared one by its name
// within a maps namespace (BCC's maps_ns, "" unless the loader is given one). An extern declaration names one of
// them: the namespace's shared table first, then the public one, as BCC looks them up. The registry holds its
// own fd of each lent map while any module that declared or borrowed it is open, so a borrower keeps working
// after the lender closes, and the name is free again once every user has closed.
import { ErrorCode, TsbccError } from "../errors.js";
import type { Fd } from "../sys/index.js";
import { mapTypeName } from "../sys/abi.js";
import type { MapSpec } from "./map-spec.js";

export type TableShare = "public" | "shared" | "extern";

interface Lent {
  fd: Fd;
  spec: MapSpec;
  share: "public" | "shared";
  users: number;
}

const lent = new Map<string, Lent>();

function keyOf(share: "public" | "shared", name: string, namespace: string): string {
  return share === "public" ? name : `ns/${namespace}/${name}`;
}

/** The release function of one user of `entry`; the last release closes the registry's fd and frees the name. */
function releaser(key: string, entry: Lent): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--entry.users > 0) return;
    entry.fd.close();
    if (lent.get(key) === entry) lent.delete(key);
  };
}

/** Registers map `m` (open as `fd`) as a public or shared table; returns the lender's release function. */
export function lendTable(m: MapSpec, share: "public" | "shared", namespace: string, fd: Fd): () => void {
  const key = keyOf(share, m.name, namespace);
  if (lent.has(key)) {
    throw new TsbccError(ErrorCode.MAP_CREATE, `${share} table "${m.name}"${share === "shared" ? ` (maps namespace "${namespace}")` : ""}: ` +
      `another BPF module of this process already declares it; declare it BPF_TABLE("extern", ...) here to use that table`);
  }
  const entry: Lent = { fd: fd.dup(`${share} table ${m.name}`), spec: m, share, users: 1 };
  lent.set(key, entry);
  return releaser(key, entry);
}

/**
 * The table an extern declaration `m` names: a new fd of the lent map, the spec the module should use for it
 * (the declared key/value types, the lent map's type, size and flags) and the borrower's release function.
 */
export function borrowTable(m: MapSpec, namespace: string): { spec: MapSpec; fd: Fd; release: () => void } {
  const key = [keyOf("shared", m.name, namespace), keyOf("public", m.name, namespace)].find((k) => lent.has(k));
  if (key === undefined) {
    throw new TsbccError(ErrorCode.NO_SUCH_TABLE, `extern table "${m.name}": reference to undefined table (no BPF module of this ` +
      `process declares it BPF_TABLE_PUBLIC, or BPF_TABLE_SHARED in maps namespace "${namespace}")`);
  }
  const entry = lent.get(key)!;
  const s = entry.spec;
  if (s.keySize !== m.keySize || s.valueSize !== m.valueSize) {
    throw new TsbccError(ErrorCode.MAP_CREATE, `extern table "${m.name}": declared with key ${m.keySize} B / value ${m.valueSize} B, ` +
      `but the ${entry.share} table is a ${mapTypeName(s.type)} with key ${s.keySize} B / value ${s.valueSize} B`);
  }
  const fd = entry.fd.dup(`extern table ${m.name}`);
  entry.users++;
  const spec: MapSpec = { ...m, type: s.type, maxEntries: s.maxEntries, flags: s.flags, inner: s.inner };
  return { spec, fd, release: releaser(key, entry) };
}

/** The tables lent now ("name" for public ones, "ns/<namespace>/name" for shared ones), for tests and debugging. */
export function lentTables(): string[] {
  return [...lent.keys()];
}
