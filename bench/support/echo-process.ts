import type { Subprocess } from "bun";
import { REPO_ROOT } from "../../test/e2e/harness/mucgate.ts";
import { reapOnExit } from "../../test/e2e/harness/reap-on-exit.ts";

/**
 * bench/echo-component.ts as a process of its own, connected to an XMPP
 * server's component slot: a baseline with a core to itself, like mucgate.
 * It dies with the bench however the bench dies (reap-on-exit).
 */
export interface EchoProcess {
  readonly pid: number;
  /** SIGTERM, SIGKILL after 3 s. Idempotent. */
  stop(): Promise<void>;
}

export async function spawnEchoComponent(slot: {
  componentService: string;
  componentDomain: string;
  componentSecret: string;
  /** `--subject`: an empty subject message after each join's self-presence. */
  subject?: boolean;
}): Promise<EchoProcess> {
  const proc: Subprocess<"ignore", "pipe", "inherit"> = Bun.spawn(
    [
      process.execPath,
      "bench/echo-component.ts",
      slot.componentService,
      slot.componentDomain,
      slot.componentSecret,
      ...(slot.subject ? ["--subject"] : []),
    ],
    { cwd: REPO_ROOT, stdin: "ignore", stdout: "pipe", stderr: "inherit" },
  );
  const reaper = reapOnExit(proc.pid);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        await Promise.race([proc.exited, Bun.sleep(3000)]);
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
        await proc.exited;
      }
      reaper.release();
    })());
  // It prints one line once its handshake is done.
  const reader = proc.stdout.getReader();
  const first = await Promise.race([reader.read(), Bun.sleep(10_000).then(() => undefined)]);
  reader.releaseLock();
  if (!first || first.done || !new TextDecoder().decode(first.value).includes("connected")) {
    await stop();
    throw new Error(`echo component ${slot.componentDomain} did not connect to ${slot.componentService}`);
  }
  void proc.stdout.pipeTo(new WritableStream()).catch(() => {});
  return { pid: proc.pid, stop };
}
