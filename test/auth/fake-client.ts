import type { AuthAsker } from "../../src/auth/auth-client.ts";
import type { AuthAnswer, AuthQuestion } from "../../src/auth/types.ts";

export const ALLOW: AuthAnswer = { allowed: true };
export const deny = (reason = "no"): AuthAnswer => ({ allowed: false, failure: false, reason });
export const fail = (reason = "HTTP 500"): AuthAnswer => ({ allowed: false, failure: true, reason });

export interface Call {
  readonly question: AuthQuestion;
  answer(a: AuthAnswer): void;
}

/**
 * An in-memory authorization service whose answers the test controls: every
 * ask() is recorded and waits until the test answers it (or, with `auto`, is
 * answered at once from a function of the question).
 */
export class FakeClient implements AuthAsker {
  readonly calls: Call[] = [];
  /** Calls not answered yet, in arrival order. */
  readonly open: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly auto?: (q: AuthQuestion) => AuthAnswer) {}

  ask(question: AuthQuestion): Promise<AuthAnswer> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.auto) {
      const a = this.auto(question);
      this.calls.push({ question, answer: () => {} });
      this.inFlight--;
      return Promise.resolve(a);
    }
    return new Promise((resolve) => {
      const call: Call = {
        question,
        answer: (a) => {
          const i = this.open.indexOf(call);
          if (i === -1) throw new Error("answered twice");
          this.open.splice(i, 1);
          this.inFlight--;
          resolve(a);
        },
      };
      this.calls.push(call);
      this.open.push(call);
    });
  }
}

/** Let every pending promise reaction (lru-cache and p-limit hand-offs) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A clock the test advances by hand (milliseconds). */
export class FakeClock {
  constructor(public t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
