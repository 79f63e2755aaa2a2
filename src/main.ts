#!/usr/bin/env bun
/**
 * mucgate's process entry: flags, environment, signals. Everything else is
 * wired in mucgate.ts. The only module that reads process.argv/process.env.
 */
import pkg from "../package.json" with { type: "json" };
import { createGate } from "./auth/create-gate.ts";
import { parseCli, USAGE } from "./cli.ts";
import { loadConfigFile } from "./config.ts";
import { ConfigError, MucgateError } from "./errors.ts";
import { createLogger, logWarnings } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { startMucgate, type Mucgate } from "./mucgate.ts";

/**
 * SIGTERM/SIGINT to exit: XEP-0045 §15.7.2 says goodbye first, but never
 * longer than this, plus the time the stream is given to deliver what is
 * queued (2 s + 1 s per MiB: 10,000 332s are about 3 MiB).
 */
const SHUTDOWN_DEADLINE_MS = 5000;

async function main(): Promise<void> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (cli.help) {
    console.log(USAGE);
    return;
  }
  if (cli.version) {
    console.log(`mucgate ${pkg.version}`);
    return;
  }

  let config;
  try {
    // Every rule about the configuration is checked here, once: what passes starts.
    config = loadConfigFile(cli.config, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`mucgate: invalid configuration${cli.config ? ` in ${cli.config}` : ""}:`);
    for (const p of err.problems) console.error(`  ${p.key}: ${p.message}`);
    process.exit(1);
  }
  if (cli.checkConfig) {
    console.log(`mucgate: configuration${cli.config ? ` ${cli.config}` : ""} is valid`);
    return;
  }

  const logger = createLogger(config.log_level);
  logWarnings(logger);
  const metrics = new Metrics();
  const authorizer = createGate(config, { logger, metrics });
  // Signals count from here: one that comes while storage opens or the link is first tried
  // stops the service once it is up (a signal before that would kill the process unlogged).
  let signalled: string | undefined;
  let mucgate: Mucgate | undefined;
  const shutdown = (signal: string) => {
    if (!mucgate) {
      signalled ??= signal;
      return;
    }
    const running = mucgate;
    logger.info({ signal }, "shutting down");
    const giveUp = () => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    };
    let deadline = setTimeout(giveUp, SHUTDOWN_DEADLINE_MS);
    const onFlushBound = (ms: number) => {
      clearTimeout(deadline);
      deadline = setTimeout(giveUp, SHUTDOWN_DEADLINE_MS + ms);
    };
    running.stop({ onFlushBound }).then(
      () => {
        clearTimeout(deadline);
        logger.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  try {
    mucgate = await startMucgate(config, { logger, authorizer, metrics });
  } catch (err) {
    // Storage that cannot be opened or migrated (e.g. a schema newer than this binary): say why, exit 1.
    if (!(err instanceof MucgateError)) throw err;
    logger.error({ err: err.message }, "mucgate could not start");
    console.error(`mucgate: ${err.message}`);
    logger.flush?.();
    process.exit(1);
  }
  if (signalled) shutdown(signalled);
  // The one error sink for anything that escaped: log it, keep serving.
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
  process.on("uncaughtException", (err) => logger.error({ err }, "uncaught exception"));
}

void main();
