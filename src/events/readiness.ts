// Readiness of a set of fds on Node's event loop, and the poll()/consume() contract both readers share.
//
// Default strategy ("epoll"): one epoll fd holds every ring fd, and that single epoll fd is watched by libuv
// (level-triggered), so the cost per wakeup does not grow with the number of CPUs.
// - Ring buffer map fds poll readable while *any* byte is reserved, including a record still marked BUSY, so a
//   level-triggered watch would re-fire on every loop turn until the producer commits. They are registered
//   EPOLLET, and each wakeup first collects the edge events (epoll_wait, before draining, so a wakeup that
//   arrives during the drain is never swallowed); the next notification is then the kernel's own wakeup.
// - Perf event fds clear their own readiness when polled (the kernel resets it on each poll), so they are
//   registered level-triggered and need no epoll_wait: libuv's next look at the epoll fd re-polls them and
//   finds nothing. That saves a syscall per wakeup, and perf buffers wake per event by default (on the 2-vCPU
//   dev VM, consumer CPU per wakeup went from about 12 to 10 µs).
// The alternative ("per-fd", one libuv handle per fd) exists to measure against (bench/events.ts).
import { ArgumentError, ClosedError } from "../errors.js";
import {
  EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_EVENT_SIZE, EPOLLET, EPOLLIN, epollCreate, epollCtl, epollWait, Fd,
  pollReadable, type PollWatch,
} from "../sys/index.js";

export type WatchStrategy = "epoll" | "per-fd";

/** Tells the owner when some watched fd may have data; `waiting` says whether anyone is blocked in poll(). */
export interface Readiness {
  add(fd: number): void;
  remove(fd: number): void;
  /** true while a poll() waits: the watch keeps the process alive and is armed. */
  setWaiting(waiting: boolean): void;
  close(): void;
  /** fds this object itself owns (the epoll fd), for leak accounting in tests. */
  readonly ownFds: number;
}

class EpollReadiness implements Readiness {
  readonly #ep: Fd;
  readonly #watch: PollWatch;
  readonly #events = new Uint8Array(EPOLL_EVENT_SIZE * 64);
  readonly ownFds = 1;
  readonly #edge: boolean;
  constructor(onWake: () => void, edgeTriggered: boolean) {
    this.#edge = edgeTriggered;
    this.#ep = new Fd(epollCreate(), "epoll (event readers)");
    // Which fd fired does not matter: every wakeup drains every ring.
    this.#watch = pollReadable(this.#ep.value, edgeTriggered ? () => {
      // Take the edge entries off the epoll fd's ready list, then drain.
      while (epollWait(this.#ep.value, this.#events, 0) === 64);
      onWake();
    } : onWake);
    this.#watch.unref();
  }
  add(fd: number): void {
    epollCtl(this.#ep.value, EPOLL_CTL_ADD, fd, this.#edge ? EPOLLIN | EPOLLET : EPOLLIN, fd);
  }
  remove(fd: number): void {
    epollCtl(this.#ep.value, EPOLL_CTL_DEL, fd);
  }
  setWaiting(waiting: boolean): void {
    if (waiting) this.#watch.ref();
    else this.#watch.unref();
  }
  close(): void {
    this.#watch.close();
    this.#ep.close();
  }
}

/** One libuv handle per fd, level-triggered; disarmed when a wakeup arrives and nobody waits. */
class PerFdReadiness implements Readiness {
  readonly #watches = new Map<number, PollWatch>();
  readonly #onWake: () => void;
  #waiting = false;
  readonly ownFds = 0;
  constructor(onWake: () => void) {
    this.#onWake = onWake;
  }
  /** Watches disarmed while nobody waited; re-armed (a libuv epoll_ctl each) only when someone waits again. */
  readonly #stopped = new Set<PollWatch>();
  add(fd: number): void {
    const w = pollReadable(fd, () => {
      if (!this.#waiting) {
        w.stop(); // level-triggered: without this an idle reader with data would spin
        this.#stopped.add(w);
      }
      this.#onWake();
    });
    if (!this.#waiting) w.unref();
    this.#watches.set(fd, w);
  }
  remove(fd: number): void {
    const w = this.#watches.get(fd);
    if (w) this.#stopped.delete(w);
    w?.close();
    this.#watches.delete(fd);
  }
  setWaiting(waiting: boolean): void {
    if (waiting === this.#waiting) return;
    this.#waiting = waiting;
    for (const w of this.#watches.values()) {
      if (waiting) w.ref();
      else w.unref();
    }
    if (waiting) {
      for (const w of this.#stopped) w.start();
      this.#stopped.clear();
    }
  }
  close(): void {
    for (const w of this.#watches.values()) w.close();
    this.#watches.clear();
    this.#stopped.clear();
  }
}

interface Waiter {
  resolve: (n: number) => void;
  reject: (e: unknown) => void;
  timer?: NodeJS.Timeout;
}

/**
 * The shared poll()/consume() machinery. Subclasses implement drain(): deliver what is in the rings now and
 * return the number of records (or a negative stop code from a callback). Callbacks run only inside
 * consume() and poll(), never spontaneously (BCC semantics).
 */
export abstract class PollingReader {
  protected readonly readiness: Readiness;
  #waiters: Waiter[] = [];
  /** pollReaders() listeners: called on every wakeup (and on close) while registered. */
  readonly #listeners = new Set<() => void>();
  #draining = false;
  #closed = false;
  #closeDeferred = false;
  /** watch() subscribers: continuous mode, every wakeup drains at once. */
  readonly #watchers = new Set<{ onDrain?: (n: number) => void; onError?: (e: unknown) => void }>();
  #redrain: NodeJS.Immediate | undefined;
  /**
   * Set by drain() when it stopped with records still in a ring (its per-call bound) that no new wakeup may
   * announce (ring buffer producers only wake a consumer that has caught up). watch() mode drains again on the
   * next loop turn; poll() mode needs nothing, since poll() drains before it waits.
   */
  protected backlog = false;
  /**
   * With batched kernel wakeups (perf wakeupEvents > 1 or a watermark) the last records of a burst may never reach
   * the threshold: while someone waits, every `latencyBoundMs` the rings are looked at (memory reads, see
   * hasPending) and a wakeup is made up when something is there. Undefined: only the kernel's wakeups count.
   */
  protected latencyBoundMs: number | undefined;
  #latencyTimer: NodeJS.Timeout | undefined;

  /**
   * `edgeTriggered`: the fds stay readable while unread data is there (ring buffer maps), rather than
   * resetting their readiness when polled (perf events). See the top of this file.
   */
  constructor(strategy: WatchStrategy = "epoll", edgeTriggered = true) {
    const wake = () => this.#onWake();
    this.readiness = strategy === "per-fd" ? new PerFdReadiness(wake) : new EpollReadiness(wake, edgeTriggered);
  }

  protected abstract drain(): number;
  /** Whether some ring holds unread records (memory reads only); the latency bound's check. */
  protected hasPending(): boolean {
    return true;
  }
  /** Frees the rings; called once, never while a drain is running. */
  protected abstract release(): void;

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Delivers every record available now, without waiting. Returns how many records reached the callback, or
   * the negative value a callback returned to stop. Calling it from inside a callback returns 0.
   */
  consume(): number {
    if (this.#closed || this.#draining) return 0;
    this.#draining = true;
    try {
      return this.drain();
    } finally {
      this.#draining = false;
      if (this.#closeDeferred) this.#finishClose();
    }
  }

  /**
   * Drains what is already there; if that was nothing, waits for a wakeup (or `timeoutMs`; negative waits
   * forever, 0 does not wait) and drains again. Resolves with the count consume() would return. It always
   * resolves on a later event-loop turn, so `while (...) await r.poll()` never starves timers or signals.
   */
  poll(timeoutMs = -1): Promise<number> {
    if (this.#closed) return Promise.reject(new ClosedError("event reader"));
    const bad = timeoutError(timeoutMs);
    if (bad) return Promise.reject(bad);
    let first: number;
    try {
      first = this.consume();
    } catch (e) {
      return Promise.reject(e);
    }
    if (first !== 0 || timeoutMs === 0) return new Promise((resolve) => setImmediate(() => resolve(first)));
    return new Promise<number>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (timeoutMs > 0) {
        w.timer = setTimeout(() => {
          this.#removeWaiter(w);
          try {
            resolve(this.consume());
          } catch (e) {
            reject(e);
          }
        }, timeoutMs);
      }
      this.#waiters.push(w);
      this.#updateWaiting();
    });
  }

  /**
   * Registers `fn` to run on each wakeup of this reader (and once when it closes) until the returned function
   * is called. For waiting on several readers at once (pollReaders); `fn` decides what to drain.
   */
  onWakeup(fn: () => void): () => void {
    this.#listeners.add(fn);
    this.#updateWaiting();
    return () => {
      this.#listeners.delete(fn);
      this.#updateWaiting();
    };
  }

  /**
   * Continuous mode for tools and long-running consumers: from now on every wakeup delivers what is in the rings
   * straight from the event loop's readiness callback: no promise, timer or re-arming per wakeup (poll() costs
   * all three). `onDrain(n)` follows each drain that delivered something. Callbacks still run only on the event
   * loop, never inside other code. A drain error goes to `onError` (default: thrown, as an uncaught exception).
   * Whatever is already in the rings is delivered on the next loop turn. Returns the function that stops it;
   * the watch keeps the process alive until then (or until close()).
   */
  watch(onDrain?: (n: number) => void, onError?: (e: unknown) => void): () => void {
    if (this.#closed) throw new ClosedError("event reader");
    const w = { onDrain, onError };
    this.#watchers.add(w);
    this.#updateWaiting();
    this.#scheduleRedrain();
    return () => {
      this.#watchers.delete(w);
      this.#updateWaiting();
    };
  }

  #scheduleRedrain(): void {
    this.#redrain ??= setImmediate(() => {
      this.#redrain = undefined;
      if (this.#watchers.size) this.#watchDrain();
    });
  }

  #watchDrain(): void {
    let n: number;
    try {
      this.backlog = false;
      n = this.consume();
    } catch (e) {
      const handlers = [...this.#watchers].filter((w) => w.onError);
      if (handlers.length === 0) throw e;
      for (const w of handlers) w.onError!(e);
      return;
    }
    if (n !== 0) {
      for (const w of this.#watchers) w.onDrain?.(n);
      if (this.#waiters.length) this.#settle((w) => w.resolve(n));
    }
    if (this.backlog && !this.#closed) this.#scheduleRedrain();
  }

  #armed = false;
  #recheck: NodeJS.Immediate | undefined;
  /** An arm came after the pending recheck turn was queued: it must wait one more loop turn. */
  #recheckFresh = false;

  #updateWaiting(): void {
    if (this.#closed) return;
    const waiting = this.#waiters.length + this.#listeners.size + this.#watchers.size > 0;
    this.readiness.setWaiting(waiting);
    // Perf fds reset their readiness when polled, so a poll whose result nobody reports swallows a wakeup:
    // - libuv registers a started (or re-started) watch with its epoll only at the start of the loop's next
    //   poll phase, and that epoll_ctl polls the fds once; epoll_wait then polls again and finds nothing. A
    //   record written between opening the reader (or re-arming a stopped per-fd watch) and that registration
    //   wakes nobody.
    // - a stopped watch's stale registration in libuv may poll them once more and drop the event.
    // The records are still in the rings. So each time the watch is armed, look at the rings themselves once (a
    // memory read), after the next poll phase has run (see #recheckTurn).
    if (waiting && !this.#armed) {
      this.#recheckFresh = true;
      this.#recheck ??= setImmediate(() => this.#recheckTurn());
    }
    this.#armed = waiting;
    this.#updateLatencyTimer(waiting);
  }

  #updateLatencyTimer(waiting: boolean): void {
    if (waiting && this.latencyBoundMs !== undefined && !this.#latencyTimer) {
      // Unref'd: what keeps the process alive is the watch itself.
      this.#latencyTimer = setInterval(() => {
        if (!this.#draining && this.hasPending()) this.#onWake();
      }, this.latencyBoundMs).unref();
    } else if (!waiting && this.#latencyTimer) {
      clearInterval(this.#latencyTimer);
      this.#latencyTimer = undefined;
    }
  }

  /**
   * An immediate queued from an I/O callback runs in this turn's check phase, before the registration above;
   * one queued from an immediate runs on the next turn, after its poll phase. So the re-check takes two turns.
   */
  #recheckTurn(): void {
    if (this.#recheckFresh) {
      this.#recheckFresh = false;
      this.#recheck = setImmediate(() => this.#recheckTurn());
      return;
    }
    this.#recheck = undefined;
    this.#onWake();
  }

  #removeWaiter(w: Waiter): void {
    const i = this.#waiters.indexOf(w);
    if (i >= 0) this.#waiters.splice(i, 1);
    this.#updateWaiting();
  }

  #settle(fn: (w: Waiter) => void): void {
    const ws = this.#waiters;
    this.#waiters = [];
    this.#updateWaiting();
    for (const w of ws) {
      clearTimeout(w.timer);
      fn(w);
    }
  }

  #onWake(): void {
    if (this.#closed) return;
    if (this.#watchers.size) {
      this.#watchDrain();
      if (this.#listeners.size === 0) return;
    }
    for (const fn of [...this.#listeners]) fn();
    // Nobody waiting: leave the data where it is; the next poll() drains before it waits.
    if (this.#waiters.length === 0) return;
    let n: number;
    try {
      n = this.consume();
    } catch (e) {
      this.#settle((w) => w.reject(e));
      return;
    }
    // 0 means the wakeup brought nothing deliverable yet (a BUSY ring record): keep waiting for the next one.
    if (n !== 0 || this.#closed) this.#settle((w) => w.resolve(n));
  }

  /** Stops watching, resolves pending polls with 0, and frees the rings (after the running drain, if any). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.clear();
    if (this.#redrain) clearImmediate(this.#redrain);
    this.#redrain = undefined;
    if (this.#recheck) clearImmediate(this.#recheck);
    this.#recheck = undefined;
    this.#updateLatencyTimer(false);
    this.#settle((w) => w.resolve(0));
    for (const fn of [...this.#listeners]) fn();
    this.#listeners.clear();
    if (this.#draining) this.#closeDeferred = true;
    else this.#finishClose();
  }

  #finishClose(): void {
    this.#closeDeferred = false;
    try {
      this.readiness.close();
    } finally {
      this.release();
    }
  }
}

/** Longest timer Node keeps (2^31 - 1 ms); a longer one fires after 1 ms with a warning. */
const MAX_TIMEOUT_MS = 0x7fff_ffff;

/** A poll timeout is a finite number of ms up to MAX_TIMEOUT_MS, or negative (finite) for "forever". */
export function timeoutError(timeoutMs: unknown): ArgumentError | undefined {
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs)) {
    return new ArgumentError("timeoutMs", `must be a finite number of milliseconds (-1 waits forever, 0 does not wait); got ${String(timeoutMs)}`);
  }
  if (timeoutMs > MAX_TIMEOUT_MS) {
    return new ArgumentError("timeoutMs", `at most ${MAX_TIMEOUT_MS} ms (about 24.8 days); -1 waits forever; got ${timeoutMs}`);
  }
  return undefined;
}

/**
 * One wait over several readers (BCC's perf_buffer_poll over every open perf buffer): drains all of them; if
 * that delivered nothing, waits until any of them wakes (or `timeoutMs`) and drains all again. Resolves with
 * the total, or with the first negative stop code a ring buffer callback returned.
 */
export function pollReaders(readers: readonly PollingReader[], timeoutMs = -1): Promise<number> {
  const bad = timeoutError(timeoutMs);
  if (bad) return Promise.reject(bad);
  const consumeAll = (): number => {
    let n = 0;
    for (const r of readers) {
      const got = r.consume();
      if (got < 0) return got;
      n += got;
    }
    return n;
  };
  let first: number;
  try {
    first = consumeAll();
  } catch (e) {
    return Promise.reject(e);
  }
  if (first !== 0 || timeoutMs === 0 || readers.every((r) => r.closed)) {
    return new Promise((resolve) => setImmediate(() => resolve(first)));
  }
  return new Promise<number>((resolve, reject) => {
    const cancels: Array<() => void> = [];
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (force: boolean) => {
      if (done) return;
      let n: number;
      try {
        n = consumeAll();
      } catch (e) {
        done = true;
        cleanup();
        reject(e);
        return;
      }
      if (n === 0 && !force && !readers.every((r) => r.closed)) return;
      done = true;
      cleanup();
      resolve(n);
    };
    const cleanup = () => {
      clearTimeout(timer);
      for (const c of cancels) c();
    };
    for (const r of readers) if (!r.closed) cancels.push(r.onWakeup(() => finish(false)));
    if (timeoutMs > 0) timer = setTimeout(() => finish(true), timeoutMs);
  });
}
