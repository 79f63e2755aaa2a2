import type { Element, Node } from "@xmpp/xml";
import { NS } from "./namespaces.ts";
import { element } from "./stanza.ts";

/** XEP-0004 data forms: just what room configuration and registration need. */

export interface SubmittedForm {
  readonly type: string;
  readonly formType: string | undefined;
  /** var → values */
  readonly values: ReadonlyMap<string, readonly string[]>;
}

export function readForm(parent: Element | undefined): SubmittedForm | undefined {
  const x = parent?.getChild("x", NS.DATA);
  if (!x) return undefined;
  const values = new Map<string, string[]>();
  for (const f of x.getChildren("field")) {
    const name = f.attrs.var;
    if (!name) continue;
    values.set(
      name,
      f.getChildren("value").map((v) => v.getText()),
    );
  }
  return { type: x.attrs.type ?? "", formType: values.get("FORM_TYPE")?.[0], values };
}

export function firstValue(form: SubmittedForm, name: string): string | undefined {
  return form.values.get(name)?.[0];
}

/** XEP-0004 §3.3 boolean: "1"/"true" or "0"/"false". */
export function booleanValue(form: SubmittedForm, name: string): boolean | undefined {
  const v = firstValue(form, name);
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  return undefined;
}

export interface FieldSpec {
  var: string;
  type: string;
  label?: string;
  value?: string;
  /** Several values (XEP-0004 §3.3 jid-multi, list-multi, text-multi), each its own <value/>. */
  values?: readonly string[];
  required?: boolean;
  /** list-single / list-multi choices (XEP-0004 §3.3). */
  options?: readonly { readonly value: string; readonly label: string }[];
}

export function formElement(type: "form" | "result", title: string | undefined, fields: FieldSpec[]): Element {
  const children: Node[] = [];
  if (title) children.push(element("title", {}, [title]));
  for (const f of fields) {
    const attrs: Record<string, string> = { var: f.var, type: f.type };
    if (f.label) attrs.label = f.label;
    const kids: Node[] = [];
    if (f.required) kids.push(element("required", {}));
    if (f.value !== undefined) kids.push(element("value", {}, [f.value]));
    for (const v of f.values ?? []) kids.push(element("value", {}, [v]));
    for (const o of f.options ?? []) kids.push(element("option", { label: o.label }, [element("value", {}, [o.value])]));
    children.push(element("field", attrs, kids));
  }
  return element("x", { xmlns: NS.DATA, type }, children);
}
