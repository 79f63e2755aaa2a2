import { describe, expect, spyOn, test } from "bun:test";
import crypto from "node:crypto";
import { constantTimeEqual } from "../../src/http/authorization.ts";
import { answer, httpFixture } from "./fixture.ts";

describe("constantTimeEqual", () => {
  test("equal strings are equal", () => {
    expect(constantTimeEqual("Bearer abc", "Bearer abc")).toBe(true);
    expect(constantTimeEqual("", "")).toBe(true);
  });

  test("unequal strings of the same length are not", () => {
    expect(constantTimeEqual("Bearer abc", "Bearer abd")).toBe(false);
    expect(constantTimeEqual("Bearer abc", "bearer abc")).toBe(false);
  });

  test("strings of different lengths are not, whichever is longer", () => {
    expect(constantTimeEqual("Bearer abc", "Bearer abcd")).toBe(false);
    expect(constantTimeEqual("Bearer abcd", "Bearer abc")).toBe(false);
    expect(constantTimeEqual("", "x")).toBe(false);
    expect(constantTimeEqual("x".repeat(10_000), "x")).toBe(false);
  });

  test("non-ASCII strings compare exactly (no folding, no normalisation, lone surrogates kept apart)", () => {
    expect(constantTimeEqual("Basic ünïcödé", "Basic ünïcödé")).toBe(true);
    expect(constantTimeEqual("Basic é", "Basic e\u0301")).toBe(false); // NFC vs NFD
    expect(constantTimeEqual("\uD800", "\uFFFD")).toBe(false); // UTF-8 would map both to EF BF BD
    expect(constantTimeEqual("\u00ff", "\u0178")).toBe(false);
    expect(constantTimeEqual("🔑", "🔑")).toBe(true);
  });

  test("compares with crypto.timingSafeEqual on equal-length digests", () => {
    const spy = spyOn(crypto, "timingSafeEqual");
    try {
      constantTimeEqual("short", "a much longer value");
      expect(spy).toHaveBeenCalledTimes(1);
      const [a, b] = spy.mock.calls[0]! as unknown as [Buffer, Buffer];
      expect(a.length).toBe(32);
      expect(b.length).toBe(32);
    } finally {
      spy.mockRestore();
    }
  });

  test("the route's check goes through timingSafeEqual too", async () => {
    const f = httpFixture();
    const spy = spyOn(crypto, "timingSafeEqual");
    try {
      expect((await f.forget({ all: true }, { authorization: "Bearer nope" })).status).toBe(401);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  test("a Latin-1 configured value matches the same bytes sent over HTTP", async () => {
    const { createApp } = await import("../../src/http/app.ts");
    const f = httpFixture();
    const app = createApp({ xmppState: () => "online", metrics: f.metrics, service: f.service, send: () => {}, kickAuthorization: "Basic caf\u00e9" });
    const res = await app.request("/muc_auth/forget", {
      method: "POST",
      headers: { authorization: "Basic caf\u00e9", "content-type": "application/json" },
      body: JSON.stringify({ all: true }),
    });
    expect(await answer(res)).toMatchObject({ status: 200, body: { forgotten: 0 } });
  });
});
