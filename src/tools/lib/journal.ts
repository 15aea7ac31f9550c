// Writing to the systemd journal without libsystemd or systemd-cat: journald's native protocol is one datagram per
// entry on a unix socket (/run/systemd/journal/socket), each field a "KEY=VALUE\n" line, or, when the value holds
// a newline, "KEY\n" + its length (u64 little-endian) + the bytes + "\n". Node has no unix datagram sockets, so the
// socket goes through the native seam. A host without journald (no socket) is told clearly.
import { existsSync } from "node:fs";
import { ArgumentError, UnsupportedError } from "../../errors.js";
import { Fd, sendTo, socketOpen } from "../../sys/index.js";
import { Sock } from "../../sys/abi.js";
import type { ToolStream } from "./stream.js";

export const JOURNAL_SOCKET = "/run/systemd/journal/socket";

export type JournalFields = Record<string, string | number | bigint>;

const FIELD_NAME = /^[A-Z0-9_]{1,64}$/;

/** One journal entry in the native protocol's encoding (field names: upper-case letters, digits, underscores). */
export function encodeJournalEntry(fields: JournalFields): Uint8Array {
  const text = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [key, raw] of Object.entries(fields)) {
    if (!FIELD_NAME.test(key) || /^\d/.test(key)) throw new ArgumentError("fields", `journal field name ${JSON.stringify(key)} is not valid`);
    const value = text.encode(String(raw));
    if (!value.includes(0x0a)) {
      parts.push(text.encode(`${key}=`), value, text.encode("\n"));
      continue;
    }
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(value.length), true);
    parts.push(text.encode(`${key}\n`), len, value, text.encode("\n"));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes a native-protocol datagram back into fields (the receiving side, for tests and tools reading entries). */
export function decodeJournalEntry(data: Uint8Array): Record<string, string> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: Record<string, string> = {};
  let i = 0;
  while (i < buf.length) {
    const nl = buf.indexOf(0x0a, i);
    const end = nl < 0 ? buf.length : nl;
    const line = buf.subarray(i, end).toString("utf8");
    const eq = line.indexOf("=");
    if (eq >= 0) {
      out[line.slice(0, eq)] = line.slice(eq + 1);
      i = end + 1;
      continue;
    }
    const len = Number(buf.readBigUInt64LE(end + 1));
    out[line] = buf.subarray(end + 9, end + 9 + len).toString("utf8");
    i = end + 9 + len + 1;
  }
  return out;
}

/** sockaddr_un for `path` (what bind/sendto take for a unix socket). */
export function unixAddress(path: string): Uint8Array {
  const p = new TextEncoder().encode(path);
  const addr = new Uint8Array(2 + p.length + 1);
  new DataView(addr.buffer).setUint16(0, Sock.AF_UNIX, true);
  addr.set(p, 2);
  return addr;
}

/** A connection-less writer of journal entries; `close()` releases its socket. */
export class JournalWriter {
  readonly #fd: Fd;
  readonly #addr: Uint8Array;
  readonly path: string;

  /** `socketPath`: journald's socket (tests pass their own). Throws UnsupportedError when there is none. */
  constructor(socketPath = JOURNAL_SOCKET) {
    if (!existsSync(socketPath)) {
      throw new UnsupportedError(`no systemd journal on this host: ${socketPath} does not exist (is systemd-journald running?)`);
    }
    this.path = socketPath;
    this.#addr = unixAddress(socketPath);
    this.#fd = new Fd(socketOpen(Sock.AF_UNIX, Sock.SOCK_DGRAM | Sock.SOCK_CLOEXEC, 0), `journal socket ${socketPath}`);
  }

  send(fields: JournalFields): void {
    sendTo(this.#fd.value, encodeJournalEntry(fields), 0, this.#addr);
  }

  close(): void {
    this.#fd.close();
  }
}

/** `stream`, writing `fields(ev)` to `journal` for each event as it passes; the journal closes with the stream. */
export function journaled<T>(stream: ToolStream<T>, journal: JournalWriter, fields: (ev: T) => JournalFields): ToolStream<T> {
  return {
    source: stream.source,
    close: () => {
      stream.close();
      journal.close();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for await (const ev of stream) {
          journal.send(fields(ev));
          yield ev;
        }
      } finally {
        journal.close();
      }
    },
  };
}
