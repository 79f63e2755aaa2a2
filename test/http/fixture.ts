import type { Element } from "@xmpp/xml";
import parse from "ltx/lib/parse.js";
import { createApp } from "../../src/http/app.ts";
import type { DecisionForgetter, ForgetScope } from "../../src/http/forget-route.ts";
import { Metrics } from "../../src/metrics.ts";
import { MucService } from "../../src/muc/service.ts";

export const DOMAIN = "rooms.test";
export const AUTH = "Bearer s3cret-kick-token";
export const MUC = "http://jabber.org/protocol/muc";
export const MUC_USER = "http://jabber.org/protocol/muc#user";

/** A join gate stand-in that records what it was asked to forget. */
export class RecordingGate implements DecisionForgetter {
  readonly calls: ForgetScope[] = [];
  constructor(private readonly answer = 3) {}
  forget(scope: ForgetScope): number {
    this.calls.push(scope);
    return this.answer;
  }
}

/**
 * The HTTP app over a real MucService in memory: users join by presence
 * stanzas, and what the app sends over the component link is captured.
 */
export function httpFixture(options: { gate?: DecisionForgetter | null; state?: string; apiAuthorization?: string } = {}) {
  /** Timers the room API set, run by the test (`timers.splice(0).forEach(t => t.fn())`). */
  const timers: { ms: number; fn: () => void }[] = [];
  const service = new MucService({ domain: DOMAIN, secret: "test" });
  const metrics = new Metrics();
  metrics.observeRooms(() => ({ rooms: service.rooms.size, occupants: service.occupantCount }));
  const sent: Element[] = [];
  const gate = options.gate === undefined ? new RecordingGate() : (options.gate ?? undefined);
  let state: string = options.state ?? "online";
  let storageFailing = false;
  const app = createApp({
    xmppState: () => state,
    storageFailing: () => storageFailing,
    metrics,
    service,
    send: (stanzas) => sent.push(...stanzas),
    kickAuthorization: AUTH,
    apiAuthorization: options.apiAuthorization,
    roomService: service,
    schedule: (ms, fn) => void timers.push({ ms, fn }),
    decisions: gate,
  });

  /** POST a JSON body (a string is sent as is) with the right headers unless overridden. */
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: "POST",
      headers: { authorization: AUTH, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  return {
    timers,
    service,
    metrics,
    sent,
    gate,
    app,
    post,
    kick: (body: unknown, headers?: Record<string, string>) => post("/muc_kick", body, headers),
    forget: (body: unknown, headers?: Record<string, string>) => post("/muc_auth/forget", body, headers),
    setState(s: string) {
      state = s;
    },
    setStorageFailing(failing: boolean) {
      storageFailing = failing;
    },
    /** Join `room` as `nick` from the full JID `from`. */
    join(from: string, room: string, nick: string) {
      const out: Element[] = [];
      service.handle(parse(`<presence from='${from}' to='${room}@${DOMAIN}/${nick}'><x xmlns='${MUC}'/></presence>`), out);
      return out;
    },
  };
}

export function to(stanzas: Element[], jid: string): Element[] {
  return stanzas.filter((s) => s.attrs.to === jid);
}

export function statuses(stanza: Element): string[] {
  return (stanza.getChild("x", MUC_USER)?.getChildren("status") ?? []).map((s) => s.attrs.code!);
}

export function reasonOf(stanza: Element): string | undefined {
  return stanza.getChild("x", MUC_USER)?.getChild("item")?.getChildText("reason") ?? undefined;
}

/** Status and parsed JSON body of an answer. */
export async function answer(res: Response): Promise<{ status: number; body: unknown; type: string | null }> {
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, type: res.headers.get("content-type") };
}
