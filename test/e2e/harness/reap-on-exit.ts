/**
 * Makes sure a server process we spawned dies with us, however we die.
 *
 * Tests stop their servers in afterAll/afterEach; this is the net under that:
 * - a normal exit of the test process (also after a failed or timed-out test)
 *   SIGKILLs every still-registered child from a synchronous 'exit' handler;
 * - an abrupt death of the test process (SIGKILL, crash) is caught by a tiny
 *   watchdog shell per child that reads a pipe from us: when our end closes,
 *   the kernel gives it EOF and it kills the child (SIGTERM, then SIGKILL).
 * `release()` (called after the child exited normally) SIGKILLs the watchdog
 * first, so it can never hit a reused pid.
 */
export interface Reaper {
  release(): void;
}

const live = new Map<number, { watchdog: ReturnType<typeof Bun.spawn> }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const [pid, { watchdog }] of live) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
      try {
        watchdog.kill("SIGKILL");
      } catch {}
    }
    live.clear();
  });
}

// `read` is a shell builtin, so the watchdog is one process with no children
// until it has to act.
const WATCHDOG = 'while read -r _; do :; done; kill -TERM "$0" 2>/dev/null; sleep 1; kill -KILL "$0" 2>/dev/null';

export function reapOnExit(pid: number): Reaper {
  installExitHook();
  const watchdog = Bun.spawn(["sh", "-c", WATCHDOG, String(pid)], {
    stdin: "pipe",
    stdout: "ignore",
    stderr: "ignore",
  });
  // Neither the watchdog nor its pipe may keep the test process alive.
  watchdog.unref();
  live.set(pid, { watchdog });
  return {
    release() {
      if (!live.delete(pid)) return;
      try {
        watchdog.kill("SIGKILL");
      } catch {}
    },
  };
}
