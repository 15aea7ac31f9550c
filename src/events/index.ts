// Event readers: perf buffers (PERF_EVENT_ARRAY) and BPF ring buffers (RINGBUF), read from mmap'd rings and
// woken through Node's event loop.
export {
  openPerfBuffer, PerfBuffer, type PerfBufferOptions, type PerfEvent, type PerfLostCallback, type PerfSampleCallback,
} from "./perf-buffer.js";
export {
  openRingBuffer, RingBufferManager, type RingBufferCallback, type RingBufferManagerOptions, type RingBufferOptions,
} from "./ring-buffer.js";
export { pollReaders, PollingReader, type WatchStrategy } from "./readiness.js";
