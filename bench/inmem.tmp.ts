import { Parser, type Element } from "@xmpp/xml";
import { MucService } from "../src/muc/service.ts";
import { StanzaRouter } from "../src/xmpp/stanza-router.ts";
import { ByteSink, serializeInto } from "../src/xmpp/serialize.ts";
import { silentLogger } from "../src/log.ts";
const service = new MucService({ domain: "rooms.bench" });
const enc = new TextEncoder();
let bytes = 0; const sink = new ByteSink();
const mode = process.argv[2] ?? "encode";
const authorizer = { mustAuthorize: () => true, decide: () => ({ allowed: true, failure: false, reason: "", source: "cache" as const }) };
const router = new StanzaRouter({ service, authorizer, send: (out) => { for (const s of out) serializeInto(s, sink); }, logger: silentLogger });
const N = 10000;
const joins = (leave: boolean) => { let s = ""; for (let i = 0; i < N; i++) s += leave ? `<presence type='unavailable' from='u${i}@bench.test/r' to='room${i % 1000}@rooms.bench/u${i}'/>` : `<presence from='u${i}@bench.test/r' to='room${i % 1000}@rooms.bench/u${i}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`; return s; };
const p = new Parser();
p.on("element", (el: Element) => router.route(el));
p.write("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>");
const CHUNK = 65536;
function feed(s: string) { for (let i = 0; i < s.length; i += CHUNK) { p.write(s.slice(i, i + CHUNK)); bytes += sink.take().length; } }
for (let r = 0; r < 8; r++) {
  const j = joins(false), l = joins(true);
  let t = performance.now(); feed(j); const tj = performance.now() - t;
  t = performance.now(); feed(l); const tl = performance.now() - t;
  console.log(`${mode} round ${r}: joins ${(N / tj * 1000).toFixed(0)}/s leaves ${(N / tl * 1000).toFixed(0)}/s`);
}
