// Perf maps (`/tmp/perf-PID.map`): one "hexstart hexsize name" line per JIT-compiled function, appended by the
// runtime (V8 with --perf-basic-prof, the JVM's perf-map-agent, ...) for as long as it runs. The file is read
// incrementally: `refresh()` reads only the bytes added since the last read, so code compiled after the first
// lookup still symbolizes. When ranges overlap (code moved or freed and the space reused), the newest line wins.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { RangeIndex } from "./range-index.js";

export class PerfMap {
  private starts: number[] = [];
  private ends: number[] = [];
  private names: string[] = [];
  private index?: RangeIndex;
  private consumed = 0;
  private partial = "";

  constructor(readonly path: string) {}

  get size(): number {
    return this.names.length;
  }

  /**
   * Reads lines appended since the last call. Returns true when new entries arrived. A missing or unreadable
   * file is not an error (the runtime may not have written it yet); a file that shrank is re-read from the start.
   */
  refresh(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch {
      return false;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.consumed) this.reset();
      if (size === this.consumed) return false;
      const buf = new Uint8Array(size - this.consumed);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.consumed + got);
        if (n <= 0) break;
        got += n;
      }
      this.consumed += got;
      return this.parse(this.partial + Buffer.from(buf.buffer, 0, got).toString("utf8")) > 0;
    } finally {
      closeSync(fd);
    }
  }

  /** The entry covering `addr` as [name, start], or undefined. */
  lookup(addr: number): { name: string; start: number } | undefined {
    if (!this.index) this.index = RangeIndex.build({ starts: this.starts, ends: this.ends, count: this.starts.length }, "newest");
    const i = this.index.find(addr);
    if (i < 0) return undefined;
    return { name: this.names[this.index.ids[i]!]!, start: this.index.starts[i]! };
  }

  /** Address of the newest entry named `name`, or undefined. */
  addressOf(name: string): number | undefined {
    const i = this.names.lastIndexOf(name);
    return i < 0 ? undefined : this.starts[i];
  }

  private reset(): void {
    this.starts = [];
    this.ends = [];
    this.names = [];
    this.consumed = 0;
    this.partial = "";
    this.index = undefined;
  }

  private parse(text: string): number {
    let added = 0;
    let pos = 0;
    for (;;) {
      const nl = text.indexOf("\n", pos);
      if (nl < 0) break;
      const sp1 = text.indexOf(" ", pos);
      const sp2 = sp1 < 0 ? -1 : text.indexOf(" ", sp1 + 1);
      if (sp1 > pos && sp2 > sp1 && sp2 < nl) {
        const start = parseInt(text.slice(pos, sp1), 16);
        const size = parseInt(text.slice(sp1 + 1, sp2), 16);
        if (Number.isFinite(start) && Number.isFinite(size) && size > 0) {
          this.starts.push(start);
          this.ends.push(start + size);
          this.names.push(text.slice(sp2 + 1, nl));
          added++;
        }
      }
      pos = nl + 1;
    }
    this.partial = text.slice(pos);
    if (added > 0) this.index = undefined;
    return added;
  }
}
