// ext4slower: ext4 reads, writes, opens and fsyncs slower than a threshold (lib/fs-slower.ts): fentry or kprobes
// on ext4_file_read_iter/ext4_file_write_iter/ext4_file_open/ext4_sync_file, else the syscall tracepoints on
// files whose super block is ext4.
import { fsSlower, fsSlowerTool, type FsSlowerConfig, type FsSlowerOptions, type FsSlowEvent } from "./lib/fs-slower.js";
import type { ChosenSource } from "./lib/source.js";
import type { ToolStream } from "./lib/stream.js";

const CONFIG: FsSlowerConfig = {
  tool: "ext4slower", fs: "ext4",
  read: "ext4_file_read_iter|generic_file_read_iter", write: "ext4_file_write_iter", open: "ext4_file_open", fsync: "ext4_sync_file",
};

/** ext4slower as a library: one FsSlowEvent per ext4 operation at least `minMs` (default 10) slow. */
export function ext4slower(opts: FsSlowerOptions = {}, chosen?: ChosenSource): Promise<ToolStream<FsSlowEvent>> {
  return fsSlower(CONFIG, opts, chosen);
}

export const tool = fsSlowerTool(CONFIG);
export const spec = tool.spec;
