import { callApi, type ApiAnswer } from "./ejabberd-api.ts";
import { connectClient, joinPresence, statusCodes, type Element, type TestClient } from "./client.ts";
import type { AuthKind, Call, CaseRun, Expected, RoomApiCase, Who } from "./room-api-cases.ts";

/**
 * Runs the cases of `room-api-cases.ts` against a target: ejabberd's
 * mod_muc_admin now, mucgate's room API later. A target is a base URL, the
 * MUC service and user host behind it, the Authorization values it takes,
 * and the XMPP server its occupants log in to.
 */

export interface RoomApiTarget {
  /** e.g. `http://127.0.0.1:5280/api`. */
  baseUrl: string;
  service: string;
  host: string;
  /** The Authorization header for `kind` (`undefined`: none). */
  authorization(kind: AuthKind, run: CaseRun): string | undefined;
  /** Where the case's clients log in (c2s). */
  xmpp: { domain: string; c2sPort: number };
  /** Create an account on `host` (or reset its password). */
  register(user: string, password: string): Promise<void>;
}

/** Every case account's password. */
export const CASE_PASSWORD = "pw-room-api";

/** Fresh names for case number `index` of a run labelled `label` (lower case: JID node parts). */
export function caseRun(target: RoomApiTarget, label: string, index: number): CaseRun {
  const id = `${label}-${String(index).padStart(2, "0")}`;
  const user = `${id}-u`;
  const other = `${id}-o`;
  return {
    service: target.service,
    host: target.host,
    room: id,
    roomJid: `${id}@${target.service}`,
    user,
    userJid: `${user}@${target.host}`,
    other,
    otherJid: `${other}@${target.host}`,
    nick: { user: "Alice", other: "Bob" },
    fullJid: {},
  };
}

function send(target: RoomApiTarget, call: Call, run: CaseRun): Promise<ApiAnswer> {
  return callApi(target.baseUrl, call.command, call.args ? call.args(run) : {}, {
    authorization: target.authorization(call.auth ?? "admin", run),
    ...(call.rawBody !== undefined ? { rawBody: call.rawBody } : {}),
    ...(call.method ? { method: call.method } : {}),
    ...(call.contentType !== undefined ? { contentType: call.contentType } : {}),
  });
}

function describeCall(call: Call, run: CaseRun): string {
  const args = call.rawBody !== undefined ? JSON.stringify(call.rawBody) : JSON.stringify(call.args ? call.args(run) : {});
  return `${call.method ?? "POST"} /${call.command} ${args} (auth ${call.auth ?? "admin"})`;
}

/** Throws, naming the call, unless the answer is what `expected` says. */
export function checkAnswer(answer: ApiAnswer, expected: Expected, run: CaseRun, call: Call): void {
  const contentType = answer.headers.get("content-type");
  const wantType = expected.contentType ?? "application/json";
  const bodyOk =
    typeof expected.body === "function" ? expected.body(answer.body, run) : Bun.deepEquals(answer.body, expected.body, true);
  const wrongHeaders = Object.entries(expected.headers ?? {}).filter(([name, value]) => answer.headers.get(name) !== value);
  if (answer.status === expected.status && contentType === wantType && bodyOk && wrongHeaders.length === 0) return;
  const want = typeof expected.body === "function" ? expected.body.toString() : JSON.stringify(expected.body);
  const headers = wrongHeaders.map(([name, value]) => `\n  header ${name}: expected ${JSON.stringify(value)}, got ${JSON.stringify(answer.headers.get(name))}`);
  throw new Error(
    `${describeCall(call, run)}\n  expected ${expected.status} ${wantType} ${want}\n  got      ${answer.status} ${contentType} ${answer.text}${headers.join("")}`,
  );
}

async function join(client: TestClient, run: CaseRun, who: Who): Promise<void> {
  const occupant = `${run.roomJid}/${run.nick[who]}`;
  await client.send(joinPresence(occupant));
  await client.waitFor((s) => s.name === "presence" && s.attrs.from === occupant && statusCodes(s).includes(110));
  // §7.2.16: the subject ends the join.
  await client.waitFor((s: Element) => s.name === "message" && s.attrs.from === run.roomJid && s.getChild("subject") !== undefined);
}

export interface RunOptions {
  /**
   * Also require the stanzas marked `odd.copy: false` (ejabberd's quirks).
   * Default true; false for an implementation that need not copy them.
   * (Whole cases marked so are for the caller to skip.)
   */
  quirks?: boolean;
}

/** Run one case: set-up, the call, its answer, what the clients get, the follow-up calls. Throws on any mismatch. */
export async function runCase(target: RoomApiTarget, c: RoomApiCase, run: CaseRun, options: RunOptions = {}): Promise<void> {
  const required = (e: { odd?: { copy: boolean } }) => options.quirks !== false || e.odd?.copy !== false;
  await Promise.all([target.register(run.user, CASE_PASSWORD), target.register(run.other, CASE_PASSWORD)]);
  const clients = new Map<Who, TestClient>();
  try {
    for (const call of c.before?.(run) ?? []) {
      const answer = await send(target, call, run);
      if (answer.status !== 200) throw new Error(`set-up ${describeCall(call, run)}: ${answer.status} ${answer.text}`);
    }
    for (const who of [...(c.occupants ?? []), ...(c.online ?? [])]) {
      const client = await connectClient({ server: target.xmpp, username: run[who], password: CASE_PASSWORD, domain: target.host });
      clients.set(who, client);
      run.fullJid[who] = client.jid;
    }
    for (const who of c.occupants ?? []) await join(clients.get(who)!, run, who);

    const marks = new Map([...clients].map(([who, client]) => [who, client.mark()]));
    checkAnswer(await send(target, c, run), c.expect, run, c);

    for (const e of (c.receives ?? []).filter(required)) {
      await clients.get(e.to)!.waitFor((s) => e.match(s, run), { timeout: 3000 }).catch((err: Error) => {
        throw new Error(`${e.to} did not get ${e.what}: ${err.message}`);
      });
    }
    if (c.receivesNothing?.length) {
      await Bun.sleep(500);
      for (const e of c.receivesNothing) {
        const got = clients.get(e.to)!.stanzas.slice(marks.get(e.to)).find((s) => e.match(s, run));
        if (got) throw new Error(`${e.to} got ${e.what}, which it must not: ${got.toString()}`);
      }
    }

    if (c.waitMs) await Bun.sleep(c.waitMs);
    for (const t of c.then ?? []) checkAnswer(await send(target, t, run), t.expect, run, t);
  } finally {
    await Promise.all([...clients.values()].map((client) => client.stop()));
  }
}
