// A bound on the request bytes a server holds at once. Request bodies are Buffers (outside V8's heap, so
// --max-old-space-size does not cap them) and each becomes a string and a parsed tree: under many concurrent large
// bodies memory grows past any heap cap. A request reserves its declared size before its body is read; past the
// budget it waits in line (first come, first served) for at most `maxWaitMs`, and the line itself is bounded, so a
// flood is refused quickly (the caller answers 503 with Retry-After) instead of growing memory or latency.

export interface ByteBudgetOptions {
  /** Bytes that may be reserved at once; a single reservation larger than this is clamped to it. */
  maxBytes: number;
  /** How long a reservation may wait for room. */
  maxWaitMs: number;
  /** How many reservations may wait at once; more are refused at once. */
  maxWaiting: number;
}

/** Gives the reserved bytes back; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  bytes: number;
  grant: (release: Release | undefined) => void;
  timer: NodeJS.Timeout;
}

export interface ByteBudget {
  /** Resolves to a release once `bytes` fit, or to undefined when the wait is too long or the line is full. */
  reserve(bytes: number): Promise<Release | undefined>;
  readonly inUse: number;
  readonly waiting: number;
}

export function byteBudget(opts: ByteBudgetOptions): ByteBudget {
  let inUse = 0;
  const line: Waiter[] = [];

  function hold(bytes: number): Release {
    inUse += bytes;
    let released = false;
    return function release() {
      if (released) return;
      released = true;
      inUse -= bytes;
      admitWaiting();
    };
  }

  function admitWaiting(): void {
    while (line.length && inUse + line[0]!.bytes <= opts.maxBytes) {
      const next = line.shift()!;
      clearTimeout(next.timer);
      next.grant(hold(next.bytes));
    }
  }

  function reserve(requested: number): Promise<Release | undefined> {
    const bytes = Math.min(Math.max(0, requested), opts.maxBytes);
    if (!line.length && inUse + bytes <= opts.maxBytes) return Promise.resolve(hold(bytes));
    if (line.length >= opts.maxWaiting) return Promise.resolve(undefined);
    return new Promise((grant) => {
      const waiter: Waiter = { bytes, grant, timer: setTimeout(giveUp, opts.maxWaitMs) };
      function giveUp() {
        line.splice(line.indexOf(waiter), 1);
        grant(undefined);
        // The first in line may have been what held the others back.
        admitWaiting();
      }
      line.push(waiter);
    });
  }

  return {
    reserve,
    get inUse() {
      return inUse;
    },
    get waiting() {
      return line.length;
    },
  };
}
