import { describe, expect, test } from "bun:test";
import { answer, httpFixture } from "./fixture.ts";

describe("GET /health", () => {
  test("200 ok while the component is online", async () => {
    const f = httpFixture();
    expect(await answer(await f.app.request("/health"))).toMatchObject({ status: 200, body: { status: "ok", xmpp: "online", storage: "ok" } });
  });

  test("503 degraded while storage commits fail, online or not; ok again once one succeeds", async () => {
    const f = httpFixture();
    f.setStorageFailing(true);
    expect(await answer(await f.app.request("/health"))).toMatchObject({ status: 503, body: { status: "degraded", xmpp: "online", storage: "failing" } });
    f.setState("offline");
    expect(await answer(await f.app.request("/health"))).toMatchObject({ status: 503, body: { status: "unavailable", xmpp: "offline", storage: "failing" } });
    f.setState("online");
    f.setStorageFailing(false);
    expect((await f.app.request("/health")).status).toBe(200);
  });

  test("503 with the state otherwise", async () => {
    const f = httpFixture();
    for (const state of ["connecting", "offline", "stopped"] as const) {
      f.setState(state);
      expect(await answer(await f.app.request("/health"))).toMatchObject({ status: 503, body: { status: "unavailable", xmpp: state } });
    }
  });
});

describe("GET /metrics", () => {
  test("Prometheus text with the room and kick series", async () => {
    const f = httpFixture();
    f.join("bob@b.test/pc", "lobby", "Bob");
    const res = await f.app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/plain");
    const text = await res.text();
    expect(text).toContain("mucgate_rooms 1");
    expect(text).toContain('mucgate_kicks_total{via="http"} 0');
  });

  test("storage failures: a gauge while failing and a counter of failed commits", async () => {
    const f = httpFixture();
    let stats = { failing: true, failures: 3 };
    f.metrics.observeStorage(() => stats);
    let text = await (await f.app.request("/metrics")).text();
    expect(text).toContain("mucgate_storage_failing 1");
    expect(text).toContain("mucgate_storage_commit_failures_total 3");
    stats = { failing: false, failures: 4 };
    text = await (await f.app.request("/metrics")).text();
    expect(text).toContain("mucgate_storage_failing 0");
    expect(text).toContain("mucgate_storage_commit_failures_total 4");
  });
});

describe("routing", () => {
  test("an unknown route is 404 JSON", async () => {
    const f = httpFixture();
    for (const path of ["/", "/nope", "/muc_kick/", "/muc_auth", "/muc_auth/forget/x"]) {
      for (const method of ["GET", "POST"]) {
        const res = await answer(await f.app.request(path, { method }));
        expect(res).toMatchObject({ status: 404, body: { error: "Not found" } });
        expect(res.type).toStartWith("application/json");
      }
    }
  });

  test("a wrong method on a known route is 405 JSON with Allow", async () => {
    const f = httpFixture();
    const cases: [string, string, string][] = [
      ["/muc_kick", "GET", "POST"],
      ["/muc_kick", "PUT", "POST"],
      ["/muc_kick", "DELETE", "POST"],
      ["/muc_auth/forget", "GET", "POST"],
      ["/health", "POST", "GET, HEAD"],
      ["/metrics", "DELETE", "GET, HEAD"],
    ];
    for (const [path, method, allow] of cases) {
      const res = await f.app.request(path, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      const body = (await res.json()) as { error: unknown };
      expect(typeof body.error).toBe("string");
    }
  });

  test("a handler bug is a JSON 500 that reveals nothing", async () => {
    const f = httpFixture();
    const broken = {
      domain: f.service.domain,
      kickFrom: (): never => {
        throw new Error("secret detail");
      },
    };
    const { createApp } = await import("../../src/http/app.ts");
    const app = createApp({
      xmppState: () => "online",
      metrics: f.metrics,
      service: broken,
      send: () => {},
      kickAuthorization: "k",
    });
    const res = await app.request("/muc_kick", {
      method: "POST",
      headers: { authorization: "k", "content-type": "application/json" },
      body: JSON.stringify({ nickname: "Bob", muc: "lobby@rooms.test" }),
    });
    expect(await answer(res)).toMatchObject({ status: 500, body: { error: "Internal server error" } });
  });
});
