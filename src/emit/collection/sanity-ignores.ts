import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { collectionFile, collectionModule, collectionModuleDoc, collectionRoot, sanityIgnoreFile } from "../layout";

/*
 * `ansible-test sanity` accepts only Python and PowerShell modules; these are the checks a Node.js
 * module can never pass, and nothing else. ansible-test refuses comment-only lines in this file and
 * fails on an entry that has become unnecessary, so each line carries its reason and stays honest.
 */
const CODE_CHECKS: [string, string][] = [
  [
    "shebang",
    "a Node.js module starts with the node shebang (ansible_node_interpreter applies to it); the test accepts Python shebangs only",
  ],
  [
    "validate-modules:invalid-extension",
    "a Node.js module ships as .cjs (CommonJS even under a type=module package.json); the test knows only .py and .ps1",
  ],
  [
    "validate-modules:missing-gplv3-license",
    "the collection is MIT licensed (LICENSE); the test asks for the GPLv3 header of ansible-core's own modules",
  ],
];

const DOC_CHECKS: [string, string][] = [
  [
    "validate-modules:missing-gplv3-license",
    "the module's sidecar documentation: MIT like the collection, while the test asks for the GPLv3 header",
  ],
];

/** tests/sanity/ignore-2.NN.txt for every ansible-core line schemas/collection.json claims as tested. */
export function emitSanityIgnores(ir: Ir): Outputs {
  const relative = (file: string) => file.slice(collectionRoot(ir).length + 1);
  const lines = ir.modules.flatMap((m) => [
    ...CODE_CHECKS.map(([check, why]) => `${relative(collectionModule(ir, m.name))} ${check} # ${why}`),
    ...DOC_CHECKS.map(([check, why]) => `${relative(collectionModuleDoc(ir, m.name))} ${check} # ${why}`),
  ]);
  const text = `${lines.sort().join("\n")}\n`;
  return new Map(ir.collection.testedAnsibleCore.map((line) => [collectionFile(ir, sanityIgnoreFile(line)), text]));
}
