import type { Ir, ModuleIr } from "../../ir/types";
import { optionSpecs } from "../ansible-types";
import { yamlFile } from "../yaml";

const ATTRIBUTES = {
  check_mode: {
    support: "full",
    description: "Can run in check_mode and return changed status prediction without modifying target.",
  },
  diff_mode: {
    support: "full",
    description:
      "Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.",
  },
  platform: { support: "full", platforms: "posix", description: "Target OS/families that can be operated against." },
};

/** Sidecar documentation (ansible-core >= 2.14) so ansible-doc shows a Node.js module like any other. */
export function emitModuleDoc(ir: Ir, m: ModuleIr): string {
  const where = m.side === "guest" ? "the guest (a VM)" : "the hypervisor host";
  const doc = {
    DOCUMENTATION: {
      module: m.name,
      short_description: m.doc.shortDescription,
      version_added: "1.0.0",
      description: m.doc.description,
      options: optionSpecs(m.args),
      attributes: ATTRIBUTES,
      notes: [
        `A Node.js module: it runs on ${where} with the node interpreter (ansible_node_interpreter, default /usr/bin/node, Node.js 18 or later).`,
        `Arguments are validated against ${ir.schemaPath}; an invalid argument fails with its JSON pointer and what was expected.`,
      ],
      requirements: ["Node.js >= 18 on the target"],
      author: ["AI-HOW virtio-fs maintainers"],
    },
    EXAMPLES: m.doc.examples,
    RETURN: m.doc.returns,
  };
  return yamlFile(ir, doc);
}
