/**
 * Polls `check` until it returns something other than `undefined`/`false`, or
 * throws with `describe()`'s text (called only on timeout, so it may read logs).
 * Servers here signal readiness through files and ports, not events, so polling
 * at a short interval is the simplest reliable wait.
 */
export async function waitUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeout: number; interval?: number; describe: () => string },
): Promise<T> {
  const deadline = performance.now() + options.timeout;
  const interval = options.interval ?? 10;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${options.timeout} ms: ${options.describe()}`);
    }
    await Bun.sleep(interval);
  }
}
