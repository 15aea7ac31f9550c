// xfsslower: xfs reads, writes, opens and fsyncs slower than a threshold (lib/fs-slower.ts): fentry or kprobes
// on xfs_file_read_iter/xfs_file_write_iter/xfs_file_open/xfs_file_fsync (module BTF and symbols looked up), else the syscall tracepoints on
// files whose super block is xfs.
import { fsSlower, fsSlowerTool, type FsSlowerConfig, type FsSlowerOptions, type FsSlowEvent } from "./lib/fs-slower.js";
import type { ChosenSource } from "./lib/source.js";
import type { ToolStream } from "./lib/stream.js";

const CONFIG: FsSlowerConfig = {
  tool: "xfsslower", fs: "xfs",
  read: "xfs_file_read_iter", write: "xfs_file_write_iter", open: "xfs_file_open", fsync: "xfs_file_fsync",
};

/** xfsslower as a library: one FsSlowEvent per xfs operation at least `minMs` (default 10) slow. */
export function xfsslower(opts: FsSlowerOptions = {}, chosen?: ChosenSource): Promise<ToolStream<FsSlowEvent>> {
  return fsSlower(CONFIG, opts, chosen);
}

export const tool = fsSlowerTool(CONFIG);
export const spec = tool.spec;
