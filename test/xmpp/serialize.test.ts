import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { xml, type Element } from "@xmpp/xml";
import parse from "ltx/lib/parse.js";
import { addressed } from "../../src/muc/stanza.ts";
import { ByteSink } from "../../src/xmpp/byte-sink.ts";
import { serialize, serializeInto } from "../../src/xmpp/serialize.ts";

/** Structural equality of two parsed trees (attribute order and quoting do not matter). */
function same(a: Element, b: Element): boolean {
  if (a.name !== b.name) return false;
  const ka = Object.keys(a.attrs).sort();
  const kb = Object.keys(b.attrs).sort();
  if (ka.join("\n") !== kb.join("\n") || ka.some((k) => a.attrs[k] !== b.attrs[k])) return false;
  if (a.children.length !== b.children.length) return false;
  return a.children.every((c, i) => {
    const d = b.children[i]!;
    return typeof c === "string" ? c === d : typeof d !== "string" && same(c, d);
  });
}

const text = fc.string({ unit: "grapheme", maxLength: 20 });
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const tree: fc.Arbitrary<Element> = fc.letrec((tie) => ({
  node: fc
    .tuple(name, fc.dictionary(name, text, { maxKeys: 3 }), fc.array(fc.oneof(text.filter((t) => t.length > 0), tie("node")), { maxLength: 3 }))
    .map(([n, attrs, children]) => {
      const el = xml(n, attrs);
      // Adjacent text nodes merge when parsed back; keep at most one between elements.
      for (const c of children) {
        const last = el.children.at(-1);
        if (typeof c === "string" && typeof last === "string") continue;
        el.children.push(c as Element | string);
      }
      return el;
    }),
})).node as fc.Arbitrary<Element>;

describe("serialize", () => {
  test("parses back to the same tree as ltx's own serialisation, whatever the text and attributes", () => {
    fc.assert(
      fc.property(tree, (el) => {
        expect(same(parse(serialize(el)), parse(el.toString()))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test("escapes markup in attributes and text", () => {
    const el = xml("message", { to: `a'b"<&>` }, xml("body", {}, "1 < 2 & 3 > 2"));
    expect(serialize(el)).toBe(`<message to='a&apos;b&quot;&lt;&amp;&gt;'><body>1 &lt; 2 &amp; 3 &gt; 2</body></message>`);
  });

  test("copies addressed from one template differ only in their start tag", () => {
    const template = xml("message", { from: "room@rooms.test/Alice", type: "groupchat" }, xml("body", {}, "hi"));
    const a = serialize(addressed(template, "bob@b.test/pc"));
    const b = serialize(addressed(template, "carol@c.test/x"));
    expect(a).toBe(`<message from='room@rooms.test/Alice' type='groupchat' to='bob@b.test/pc'><body>hi</body></message>`);
    expect(b).toBe(`<message from='room@rooms.test/Alice' type='groupchat' to='carol@c.test/x'><body>hi</body></message>`);
  });
});

describe("serializeInto", () => {
  test("writes the same bytes as serialize, for addressed copies and plain elements alike", () => {
    const template = xml("presence", { from: "room@rooms.test/Ünïcode 𝄞" }, xml("status", {}, "a < b & c"), xml("x", { xmlns: "urn:x" }));
    const stanzas = [addressed(template, "bob@b.test/pc"), addressed(template, "o'neil@c.test/x"), xml("message", { to: "a@b" }, xml("body", {}, "hé"))];
    const sink = new ByteSink();
    for (const s of stanzas) serializeInto(s, sink);
    expect(new TextDecoder().decode(sink.take())).toBe(stanzas.map(serialize).join(""));
  });

  test("grows past its block size, and never writes over bytes already taken", () => {
    const sink = new ByteSink(16);
    const big = xml("message", { to: "x@y" }, xml("body", {}, "z".repeat(1000)));
    serializeInto(big, sink);
    const first = sink.take();
    expect(new TextDecoder().decode(first)).toBe(serialize(big));
    expect(sink.length).toBe(0);
    serializeInto(xml("presence", { to: "a@b" }), sink);
    expect(new TextDecoder().decode(sink.take())).toBe("<presence to='a@b'/>");
    expect(new TextDecoder().decode(first)).toBe(serialize(big)); // taken bytes are not reused
  });
});
