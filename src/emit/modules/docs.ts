import type { Ir, ModuleIr } from "../../ir/types";
import { optionSpecs } from "../ansible-types";
import { yamlFile } from "../yaml";

/** What every module of this collection supports: check mode always, on POSIX targets. */
const COMMON_ATTRIBUTES = {
  check_mode: {
    support: "full",
    description: "Can run in check_mode and return changed status prediction without modifying target.",
  },
  platform: { support: "full", platforms: "posix", description: "Target OS/families that can be operated against." },
};

const DIFF_MODE = {
  support: "full",
  description: "Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.",
};

/**
 * Ansible's naming rule: a module named *_info only reads, so it has no diff to show (diff_mode N/A,
 * as ansible.builtin's info modules declare) and returns its data under its own key, not ansible_facts
 * (which only *_facts modules may set).
 */
function isInfoModule(m: ModuleIr): boolean {
  return m.name.endsWith("_info");
}

function attributes(m: ModuleIr): Record<string, unknown> {
  if (!isInfoModule(m)) return { ...COMMON_ATTRIBUTES, diff_mode: DIFF_MODE };
  const readOnly = "This action does not modify state.";
  return {
    check_mode: { ...COMMON_ATTRIBUTES.check_mode, details: readOnly },
    diff_mode: { ...DIFF_MODE, support: "N/A", details: readOnly },
    platform: COMMON_ATTRIBUTES.platform,
  };
}

/** Sidecar documentation (ansible-core >= 2.14) so ansible-doc shows a Node.js module like any other. */
export function emitModuleDoc(ir: Ir, m: ModuleIr): string {
  const where = m.side === "guest" ? "the guest (a VM)" : "the hypervisor host";
  const doc = {
    DOCUMENTATION: {
      module: m.name,
      short_description: m.doc.shortDescription,
      version_added: "1.0.0",
      description: m.doc.description,
      options: optionSpecs(m.args, { nestedKey: "suboptions" }),
      attributes: attributes(m),
      notes: [
        `A Node.js module: it runs on ${where} with the node interpreter (ansible_node_interpreter, default /usr/bin/node, Node.js 18 or later).`,
        `Arguments are validated against ${ir.schemaPath}; an invalid argument fails with its JSON pointer and what was expected.`,
      ],
      requirements: ["Node.js >= 18 on the target"],
      author: ir.collection.authors,
    },
    EXAMPLES: m.doc.examples,
    RETURN: m.doc.returns,
  };
  return yamlFile(ir, doc);
}
