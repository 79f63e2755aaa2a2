import type { ConfigDraft, ConfigField, ConfigOption } from "../hooks.ts";
import type { Room } from "../room.ts";
import type { StanzaError } from "../../errors.ts";
import { refuse } from "../stanza-error.ts";

/**
 * Helpers for the common shapes of §10.2 form fields, so a feature's field
 * is one line. XEP-0004 §3.3 booleans are "1"/"true" or "0"/"false". A
 * field submitted without a value leaves the setting as it is; a value the
 * service cannot honour refuses the whole form with not-acceptable naming
 * the field (§10.2: never accepted and silently ignored).
 */

type Key<T> = { [K in keyof ConfigDraft]: ConfigDraft[K] extends T ? K : never }[keyof ConfigDraft];
/** Settings that take any string (not a choice of some). */
type TextKey = { [K in keyof ConfigDraft]: string extends ConfigDraft[K] ? K : never }[keyof ConfigDraft];

export function parseBoolean(value: string | undefined): boolean | undefined {
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  return undefined;
}

/** The refusal of a form over one field's value. */
export function unacceptable(field: string, expected: string): StanzaError {
  return refuse.notAcceptable(`${field} must be ${expected}`);
}

/** A submitted boolean: undefined when no value came, refused when it is not a boolean. */
export function submittedBoolean(field: string, values: readonly string[]): boolean | undefined {
  const text = values[0]?.trim();
  if (text === undefined || text === "") return undefined;
  const value = parseBoolean(text);
  if (value === undefined) throw unacceptable(field, "a boolean (1, 0, true or false)");
  return value;
}

export function booleanField(name: string, label: string, key: Key<boolean>): ConfigField {
  return {
    var: name,
    type: "boolean",
    label,
    value: (room: Room) => (room.config[key] ? "1" : "0"),
    submit(values, draft) {
      const value = submittedBoolean(name, values);
      if (value !== undefined) draft[key] = value;
    },
  };
}

export function textField(name: string, label: string, key: TextKey): ConfigField {
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

/** A list-single whose value must be one of `options` (each a value of the setting). */
export function listField<K extends keyof ConfigDraft>(name: string, label: string, key: K, options: readonly (ConfigOption & { value: ConfigDraft[K] & string })[]): ConfigField {
  return {
    var: name,
    type: "list-single",
    label,
    options,
    value: (room: Room) => String(room.config[key]),
    submit(values, draft) {
      const text = values[0]?.trim();
      if (text === undefined || text === "") return;
      const option = options.find((o) => o.value === text);
      if (!option) throw unacceptable(name, `one of ${options.map((o) => o.value).join(", ")}`);
      draft[key] = option.value;
    },
  };
}
