// Placeholder until the auth branch lands: admits everyone.
import type { JoinAuthorizer } from "./types.ts";
import type { Config } from "../config.ts";
export function createGate(_config: Config, _deps: unknown): JoinAuthorizer | undefined {
  return undefined;
}
