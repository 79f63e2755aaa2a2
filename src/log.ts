import pino from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type Logger = pino.Logger;

/**
 * JSON lines on stdout (pino, no transports: they need worker threads Bun does
 * not run reliably), written synchronously so none is lost on exit. Secrets
 * never reach a log line: the redact paths below cover every place one could
 * appear, and call sites log no raw config.
 */
export function createLogger(level: LogLevel | "silent", destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      name: "mucgate",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          "component_secret",
          "*.component_secret",
          "authorization",
          "*.authorization",
          "headers.authorization",
          "*.headers.authorization",
          "muc_http_auth_authorization_header",
          "http_muc_kick_authorization_header",
          "*.muc_http_auth_authorization_header",
          "*.http_muc_kick_authorization_header",
        ],
        censor: "[redacted]",
      },
    },
    // Synchronous writes: an asynchronous destination loses its last lines
    // when the process exits right after them (pino's flush() returns at once
    // with the default minLength), e.g. "mucgate stopped" at shutdown.
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

/** A logger that drops everything, for tests and benchmarks. */
export const silentLogger: Logger = pino({ level: "silent" });

/**
 * Runtime warnings (deprecations, listener leaks) as log lines: Bun prints
 * them to stderr in its own format otherwise, which breaks a JSON-lines log
 * collected from both streams. Replaces the default printer.
 */
export function logWarnings(logger: Logger): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error & { code?: string }) => {
    logger.warn({ warning: warning.name, code: warning.code }, warning.message);
  });
}
