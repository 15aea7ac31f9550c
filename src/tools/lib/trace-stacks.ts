// trace -s FILES: user stacks recorded as build-id frames (BPF_STACK_TRACE_BUILDID) and symbolized from the listed
// executables and libraries, registered with the symbolizer by build-id (BCC's add_module). A build-id frame names
// the file and an offset in it, so it resolves without the process's mappings, after the process has exited too.
// A frame the kernel could not give a build-id for (status "ip") is symbolized by its address in the process.
import { BPF } from "../../index.js";
import { symbolizeFrame } from "../../symbols/index.js";
import type { SymOptions } from "../../symbols/symbolizer.js";
import { UsageError } from "./errors.js";
import type { AddressedStack } from "./stacks.js";

/** struct bpf_stack_build_id's status values. */
const BUILD_ID_VALID = 1;
const BUILD_ID_IP = 2;

/** Registers each file's build-id with the symbolizer; a missing file or one without a build-id is a usage error. */
export function loadSymbolFiles(tool: string, files: readonly string[]): void {
  if (!Array.isArray(files) || files.length === 0) throw new UsageError(tool, "-s/--sym_file_list: give one or more files, separated by commas");
  for (const f of files) {
    if (typeof f !== "string" || f === "") throw new UsageError(tool, "-s/--sym_file_list: an empty file name");
    try {
      BPF.addModule(f);
    } catch (e) {
      throw new UsageError(tool, `-s/--sym_file_list: ${f}: ${(e as Error).message.replace(/^path: /, "")}`);
    }
  }
}

type Frame = bigint | { status: number; buildId: Uint8Array; offset: bigint };

/**
 * A user stack's frames and addresses (the file offset for a build-id frame, else the address), innermost first,
 * from a plain or a build-id stack table; [] for a negative or unknown id.
 */
export function readUserStack(table: { get(id: number): unknown }, id: number, o: SymOptions & { pid: number }): AddressedStack {
  const out: AddressedStack = { frames: [], addresses: [] };
  if (id < 0) return out;
  // Read whole (not walk()ed, which stops at the first ip-fallback frame, as BCC does): frames past one stay.
  for (const f of (table.get(id) ?? []) as Frame[]) {
    if (f === 0n) break;
    if (typeof f === "bigint") {
      out.frames.push(symbolizeFrame(f, o));
      out.addresses.push(f);
    } else if (f.status === BUILD_ID_VALID) {
      out.frames.push(symbolizeFrame({ buildId: f.buildId, offset: f.offset }, o));
      out.addresses.push(f.offset);
    } else if (f.status === BUILD_ID_IP) {
      out.frames.push(symbolizeFrame(f.offset, o));
      out.addresses.push(f.offset);
    } else {
      break;
    }
  }
  return out;
}
