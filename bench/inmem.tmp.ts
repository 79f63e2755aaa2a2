import { Parser, type Element } from "@xmpp/xml";
import { MucService } from "/work/main/src/muc/service.ts";
import { StanzaRouter } from "/work/main/src/xmpp/stanza-router.ts";
import { serialize } from "/work/main/src/xmpp/serialize.ts";
import { silentLogger } from "/work/main/src/log.ts";
const service = new MucService({ domain: "rooms.bench" });
let bytes = 0, count = 0;
const authorizer = { mustAuthorize: () => true, decide: () => ({ allowed: true, failure: false, reason: "", source: "cache" as const }) };
const router = new StanzaRouter({ service, authorizer, send: (out) => { let x = ""; for (const s of out) x += serialize(s); bytes += x.length; count += out.length; }, logger: silentLogger });
const N = 10000;
function joins(tag: string, leave = false) {
  let s = "";
  for (let i = 0; i < N; i++) s += leave ? `<presence type='unavailable' from='u${i}@bench.test/r' to='room${i % 1000}@rooms.bench/u${i}'/>` : `<presence from='u${i}@bench.test/r' to='room${i % 1000}@rooms.bench/u${i}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`;
  return s;
}
const p = new Parser();
p.on("element", (el: Element) => router.route(el));
p.write("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>");
for (let r = 0; r < 30; r++) {
  const j = joins("j"), l = joins("l", true);
  let t = performance.now(); p.write(j); const tj = performance.now() - t;
  t = performance.now(); p.write(l); const tl = performance.now() - t;
  console.log(`round ${r}: joins ${(N / tj * 1000).toFixed(0)}/s (${(bytes/1e6).toFixed(1)} MB, ${count} stanzas) leaves ${(N / tl * 1000).toFixed(0)}/s`);
  bytes = 0; count = 0;
}
