// btrfsslower: btrfs reads, writes, opens and fsyncs slower than a threshold (lib/fs-slower.ts): fentry or kprobes
// on btrfs_file_read_iter/btrfs_file_write_iter/btrfs_file_open/btrfs_sync_file (module BTF and symbols looked
// up), else the syscall tracepoints on files whose super block is btrfs.
import { fsSlower, fsSlowerTool, type FsSlowerConfig, type FsSlowerOptions, type FsSlowEvent } from "./lib/fs-slower.js";
import type { ChosenSource } from "./lib/source.js";
import type { ToolStream } from "./lib/stream.js";

const CONFIG: FsSlowerConfig = {
  tool: "btrfsslower", fs: "btrfs",
  read: "btrfs_file_read_iter", write: "btrfs_file_write_iter", open: "btrfs_file_open", fsync: "btrfs_sync_file",
};

/** btrfsslower as a library: one FsSlowEvent per btrfs operation at least `minMs` (default 10) slow. */
export function btrfsslower(opts: FsSlowerOptions = {}, chosen?: ChosenSource): Promise<ToolStream<FsSlowEvent>> {
  return fsSlower(CONFIG, opts, chosen);
}

export const tool = fsSlowerTool(CONFIG);
export const spec = tool.spec;
