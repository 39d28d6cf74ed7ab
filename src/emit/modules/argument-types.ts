import type { FieldIr, ObjectIr } from "../../ir/types";
import type { ArgumentTypes } from "../../runtime/argument-conversion";
import { ansibleType } from "../ansible-types";

/** The Ansible types of a module's options (what AnsibleModule's argument_spec would say), from the schema. */
export function argumentTypes(o: ObjectIr): ArgumentTypes {
  return Object.fromEntries(
    o.fields.map((f: FieldIr) => {
      const t: ArgumentTypes[string] = { type: ansibleType(f.type) as ArgumentTypes[string]["type"] };
      if (f.type === "array" && f.itemType) t.elements = ansibleType(f.itemType) as ArgumentTypes[string]["type"];
      const sub = f.itemObject;
      if (sub) t.options = argumentTypes(sub);
      if (f.required) t.required = true;
      if (f.default !== undefined) t.hasDefault = true;
      return [f.name, t];
    }),
  );
}
