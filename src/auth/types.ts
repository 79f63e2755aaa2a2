import type { DecisionOutcome, DecisionSource } from "../metrics.ts";

/**
 * One question to the authorization service. All three parts are normalised
 * (bare JIDs lower-cased as RFC 7622 §3.2-3.3 allow) before they are asked or
 * used as a cache key, so `Alice@Host` and `alice@host` share one decision.
 */
export interface AuthQuestion {
  /** Bare JID of the joining user. */
  readonly userJID: string;
  /** Bare JID of the room. */
  readonly mucJID: string;
  /** Requested nickname, case kept. */
  readonly nickname: string;
}

/** Affiliations an answer may grant (XEP-0045 §5.2, outcast excluded: that is a denial). */
export const GRANTED_AFFILIATIONS = ["owner", "admin", "member", "none"] as const;
/** Roles an answer may give this occupancy (XEP-0045 §5.1). */
export const GRANTED_ROLES = ["moderator", "participant", "visitor"] as const;

/**
 * The user's standing an allowed answer carried (`affiliation`, `role`); the
 * same shape as the core's `Standing` (src/muc/standing.ts), declared here so
 * the gate stays free of XMPP.
 */
export interface Standing {
  readonly affiliation?: (typeof GRANTED_AFFILIATIONS)[number] | undefined;
  readonly role?: (typeof GRANTED_ROLES)[number] | undefined;
}

/** What one HTTP exchange with the authorization service concluded. */
export type AuthAnswer =
  | { readonly allowed: true; readonly standing?: Standing | undefined }
  /** The service said no (2xx, JSON, `allowed: false`); `error` is its text. Cached. */
  | { readonly allowed: false; readonly failure: false; readonly reason: string }
  /** No usable answer (timeout, refused, non-2xx, bad JSON, non-boolean). Never cached. */
  | { readonly allowed: false; readonly failure: true; readonly reason: string };

/** How an answer is counted in the metrics. */
export function outcomeOf(answer: AuthAnswer): DecisionOutcome {
  return answer.allowed ? "allow" : answer.failure ? "failure" : "deny";
}

/** A decision handed to the join path. */
export interface Decision {
  readonly allowed: boolean;
  /** `true` when no usable answer came back: the join is denied (fail closed). */
  readonly failure: boolean;
  /** The service's `error` text or the failure reason; for logs only, never for users. */
  readonly reason: string;
  readonly source: DecisionSource;
  /** On an allow: the affiliation and role the answer gave, if it gave any. */
  readonly standing?: Standing | undefined;
  /** Refused without asking: the user spent its questions of this minute (QuestionBudget). */
  readonly limited?: true;
}

/** The join gate as the XMPP side sees it. */
export interface JoinAuthorizer {
  /** `must_be_authorized(room node, user host)`: whether the gate applies at all. */
  mustAuthorize(roomNode: string, userHost: string): boolean;
  /** Never rejects; synchronous when the decision is cached. */
  decide(question: AuthQuestion): Decision | Promise<Decision>;
}
