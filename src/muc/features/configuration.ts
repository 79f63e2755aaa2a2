import type { Element } from "@xmpp/xml";
import { formElement, readForm, type FieldSpec } from "../data-form.ts";
import { withConfigNotice } from "../config-notice.ts";
import type { ConfigDraft, ConfigField, Feature, IqContext } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { refuse } from "../stanza-error.ts";
import { element } from "../stanza.ts";

/**
 * The muc#owner namespace (XEP-0045 §10): the room configuration form, owners
 * only. The form is every feature's `config` fields; a submission is read
 * field by field into a draft, and applied only if no field refused it.
 * Rooms are instant: a client that got 201 submits an empty form (§10.1.2)
 * and gets a plain result. Every field offered is honoured or the form is
 * refused (not-acceptable naming the field); fields the form never offered
 * (other servers' extensions in a client's preset) are ignored, as XEP-0004
 * allows, so a preset never breaks room creation.
 */

function onlyOwners({ occupant }: IqContext): void {
  if (!occupant || occupant.affiliation !== "owner") throw refuse.forbidden("Only owners may configure the room");
}

function form({ core, room }: IqContext): Element {
  const r = room!;
  const fields: FieldSpec[] = [{ var: "FORM_TYPE", type: "hidden", value: NS.MUC_ROOMCONFIG }];
  for (const f of core.hooks.config) {
    if (f.offered && !f.offered(core)) continue;
    const value = f.value(r, core);
    const options = typeof f.options === "function" ? f.options(core) : f.options;
    const shown = typeof value === "string" ? { value } : f.type === "jid-multi" ? { values: value } : { value: value.join("\n") };
    fields.push({ var: f.var, type: f.type, label: f.label, ...shown, ...(options ? { options } : {}) });
  }
  return element("query", { xmlns: NS.MUC_OWNER }, [formElement("form", `Configuration for ${r.jid}`, fields)]);
}

function submit({ core, room, payload, turn }: IqContext): undefined {
  const submitted = readForm(payload);
  if (!submitted) throw refuse.badRequest("Expected a data form or <destroy/>");
  if (submitted.type === "cancel") return undefined;
  if (submitted.type !== "submit") throw refuse.badRequest("Not a submitted form");
  if (submitted.formType !== undefined && submitted.formType !== NS.MUC_ROOMCONFIG) {
    throw refuse.badRequest("Form is not of type room configuration");
  }
  const r = room!;
  const draft: ConfigDraft = { ...r.config };
  const accepted: [ConfigField, readonly string[]][] = [];
  for (const f of core.hooks.config) {
    if (f.offered && !f.offered(core)) continue;
    const values = submitted.values.get(f.var) ?? f.aliases?.map((name) => submitted.values.get(name)).find((v) => v !== undefined);
    if (values !== undefined) {
      f.submit(values, draft, r, core);
      accepted.push([f, values]);
    }
  }
  withConfigNotice(core, r, turn, () => {
    r.configure(draft, turn);
    // What fields change besides the configuration (§10.2 roomowners, roomadmins), now that none refused.
    for (const [f, values] of accepted) f.apply?.(values, r, core, turn);
  });
  return undefined;
}

/** §10.9: everyone leaves with the <destroy/> notice (its reason, an alternate venue); the room is gone. */
function destroy({ core, room, payload, turn }: IqContext): undefined {
  const notice = payload.getChild("destroy")!;
  core.destroyRoom(room!, { reason: notice.getChildText("reason") ?? undefined, alternate: notice.attrs.jid }, turn);
  return undefined;
}

export const configuration: Feature = {
  name: "configuration",
  iq: [
    {
      to: "room",
      type: "get",
      xmlns: NS.MUC_OWNER,
      name: "query",
      handle: (context) => {
        onlyOwners(context);
        return form(context);
      },
    },
    {
      to: "room",
      type: "set",
      xmlns: NS.MUC_OWNER,
      name: "query",
      handle: (context) => {
        onlyOwners(context);
        return context.payload.getChild("destroy") ? destroy(context) : submit(context);
      },
    },
  ],
};
