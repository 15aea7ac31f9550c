// Tier 1: journald's native protocol as lib/journal.ts writes it (tcpstates -Y): plain fields, length-prefixed
// values with newlines, the unix socket address, and field names journald would reject.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeJournalEntry, encodeJournalEntry, unixAddress } from "../../src/tools/lib/journal.js";

test("journal encoding: plain fields as KEY=VALUE lines, a value with a newline length-prefixed; bad names refused", () => {
  const entry = encodeJournalEntry({ MESSAGE: "a → b", PRIORITY: 5, MULTI: "x\ny" });
  const bytes = Buffer.from(entry);
  const plain = Buffer.from("MESSAGE=a → b\nPRIORITY=5\nMULTI\n");
  assert.equal(bytes.subarray(0, plain.length).toString(), plain.toString());
  assert.deepEqual([...bytes.subarray(plain.length)], [3, 0, 0, 0, 0, 0, 0, 0, 0x78, 0x0a, 0x79, 0x0a]);
  assert.deepEqual(decodeJournalEntry(entry), { MESSAGE: "a → b", PRIORITY: "5", MULTI: "x\ny" });
  assert.throws(() => encodeJournalEntry({ "bad name": 1 }), /not valid/);
});

test("unixAddress: AF_UNIX (1, little-endian), the path, a NUL", () => {
  assert.deepEqual([...unixAddress("/a")], [1, 0, 0x2f, 0x61, 0]);
});
