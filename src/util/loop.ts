// Yielding the event loop: long work in slices lets timers, signals and I/O run
// between them. The one way to do it in this code.

/** Resolve after the event loop has run once (pending I/O and timers first). */
export function yieldToLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** Resolve after `ms` milliseconds. */
export function sleepMs(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}
