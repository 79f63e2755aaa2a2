/**
 * The error hierarchy. Every failure mucgate reports to a peer is one of these;
 * each boundary translates them in exactly one place:
 * XMPP in `src/muc/stanza-error.ts`, HTTP in `src/http/errors.ts`.
 */

export class MucgateError extends Error {
  override name = "MucgateError";
}

/** One thing wrong with the configuration: the option (or source) and why. */
export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/**
 * A configuration problem; `key` names the offending option. Start-up reports
 * every problem at once (README "Configuration"), so an error may carry
 * several: `problems` lists them all, `key` is the first one's, and the message
 * has one line per problem, each `key: message`.
 */
export class ConfigError extends MucgateError {
  override name = "ConfigError";
  readonly problems: readonly ConfigProblem[];
  constructor(
    readonly key: string,
    message: string,
    problems?: readonly ConfigProblem[],
  ) {
    const all = problems !== undefined && problems.length > 0 ? problems : [{ key, message }];
    super(all.map((p) => `${p.key}: ${p.message}`).join("\n"));
    this.problems = Object.freeze(all.map((p) => Object.freeze({ key: p.key, message: p.message })));
  }

  /** One error listing every problem; `problems` must not be empty. */
  static of(problems: readonly ConfigProblem[]): ConfigError {
    const first = problems[0];
    if (first === undefined) throw new TypeError("ConfigError.of needs at least one problem");
    return new ConfigError(first.key, first.message, problems);
  }
}

/**
 * The storage failed: a database that cannot be opened, migrated or written.
 * Messages name the store (kind, host, port, database or path), never a password.
 */
export class StorageError extends MucgateError {
  override name = "StorageError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** RFC 6120 §8.3.2 error types. */
export type StanzaErrorType = "auth" | "cancel" | "continue" | "modify" | "wait";

/** RFC 6120 §8.3.3 defined conditions (the ones mucgate uses). */
export type StanzaErrorCondition =
  | "bad-request"
  | "conflict"
  | "feature-not-implemented"
  | "forbidden"
  | "internal-server-error"
  | "item-not-found"
  | "jid-malformed"
  | "not-acceptable"
  | "not-allowed"
  | "not-authorized"
  | "policy-violation"
  | "recipient-unavailable"
  | "registration-required"
  | "remote-server-not-found"
  | "resource-constraint"
  | "service-unavailable"
  | "undefined-condition"
  | "unexpected-request";

/** A refusal to send back to an XMPP entity as a stanza error. */
export class StanzaError extends MucgateError {
  override name = "StanzaError";
  constructor(
    readonly type: StanzaErrorType,
    readonly condition: StanzaErrorCondition,
    /** Human-readable text for the peer; never include secrets or backend errors. */
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
  }
}

/** A refusal to send back to an HTTP client; `status` and a JSON `{error}` body. */
export class HttpError extends MucgateError {
  override name = "HttpError";
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 408 | 413 | 415 | 500 | 503,
    message: string,
  ) {
    super(message);
  }
}
