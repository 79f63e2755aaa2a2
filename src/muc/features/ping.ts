import type { Feature, IqRoute } from "../hooks.ts";
import { NS } from "../namespaces.ts";

const pong = (to: IqRoute["to"]): IqRoute => ({ to, type: "get", xmlns: NS.PING, name: "ping", handle: () => undefined });

/** XEP-0199: the service and every room answer pings. */
export const ping: Feature = {
  name: "ping",
  serviceFeatures: [NS.PING],
  roomFeatures: () => [NS.PING],
  iq: [pong("service"), pong("room")],
};
