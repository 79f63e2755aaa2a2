import { Hono } from "hono";
import type { Metrics } from "../metrics.ts";
import type { ConnectionState } from "../xmpp/component-connection.ts";

export interface AppDeps {
  /** The component link's state, for /health. */
  xmppState: () => ConnectionState;
  metrics: Metrics;
}

/**
 * The HTTP API (DESIGN.md "HTTP API"), a Hono app run by Bun.serve. It calls
 * the same MUC core operations as the XMPP side.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.get("/health", (c) => {
    const xmpp = deps.xmppState();
    return c.json({ status: xmpp === "online" ? "ok" : "unavailable", xmpp }, xmpp === "online" ? 200 : 503);
  });

  app.get("/metrics", async (c) => {
    const body = await deps.metrics.render();
    return c.body(body, 200, { "content-type": deps.metrics.contentType });
  });

  return app;
}
