import type { ConfigDraft, ConfigField } from "../hooks.ts";
import type { Room } from "../room.ts";

/**
 * Helpers for the common shapes of §10.2 form fields, so a feature's field
 * is one line. XEP-0004 §3.3 booleans are "1"/"true" or "0"/"false"; a value
 * that is neither leaves the setting as it is.
 */

type Key<T> = { [K in keyof ConfigDraft]: ConfigDraft[K] extends T ? K : never }[keyof ConfigDraft];

export function parseBoolean(value: string | undefined): boolean | undefined {
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  return undefined;
}

export function booleanField(name: string, label: string, key: Key<boolean>): ConfigField {
  return {
    var: name,
    type: "boolean",
    label,
    value: (room: Room) => (room.config[key] ? "1" : "0"),
    submit(values, draft) {
      const value = parseBoolean(values[0]);
      if (value !== undefined) draft[key] = value;
    },
  };
}

export function textField(name: string, label: string, key: Key<string>): ConfigField {
  return {
    var: name,
    type: "text-single",
    label,
    value: (room: Room) => room.config[key],
    submit(values, draft) {
      if (values[0] !== undefined) draft[key] = values[0];
    },
  };
}
