import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import {
  collectionFile,
  collectionInventoryPlugin,
  collectionModule,
  collectionModuleDoc,
  collectionRoot,
  sanityIgnoreFile,
} from "../layout";

/*
 * `ansible-test sanity` accepts only Python and PowerShell modules; these are the checks a Node.js
 * module can never pass, and nothing else. ansible-test refuses comment-only lines in this file and
 * fails on an entry that has become unnecessary, so each line carries its reason and stays honest.
 */
type Check = [check: string, why: string];

const SHEBANG: Check = [
  "shebang",
  "a Node.js module starts with the node shebang (ansible_node_interpreter applies to it); the test accepts Python shebangs only",
];
const EXTENSION: Check = [
  "validate-modules:invalid-extension",
  "a Node.js module ships as .cjs (CommonJS even under a type=module package.json); the test knows only .py and .ps1",
];
const LICENSE_HEADER: Check = [
  "validate-modules:missing-gplv3-license",
  "the collection is MIT licensed (LICENSE); the test asks for the GPLv3 header of ansible-core's own modules",
];
const PYTHON_SYNTAX: Check = [
  "validate-modules:python-syntax-error",
  "validate-modules before ansible-core 2.17 parses every module as Python, and JavaScript is not Python",
];
const DOC_LICENSE_HEADER: Check = [
  "validate-modules:missing-gplv3-license",
  "the module's sidecar documentation: MIT like the collection, while the test asks for the GPLv3 header",
];

const PLUGIN_LICENSE_HEADER: Check = [
  "validate-modules:missing-gplv3-license",
  "the inventory plugin is MIT licensed like the collection (LICENSE, SPDX line); the test asks for the GPLv3 header of ansible-core's own plugins",
];

/** What one ansible-core line reports on a Node.js module (before 2.17 the Python parse fails first). */
function codeChecks(coreLine: string): Check[] {
  const minor = Number(coreLine.split(".")[1]);
  return minor < 17 ? [SHEBANG, EXTENSION, PYTHON_SYNTAX] : [SHEBANG, EXTENSION, LICENSE_HEADER];
}

/** tests/sanity/ignore-2.NN.txt for every ansible-core line schemas/collection.json claims as tested. */
export function emitSanityIgnores(ir: Ir): Outputs {
  const relative = (file: string) => file.slice(collectionRoot(ir).length + 1);
  const ignoreFile = (coreLine: string) => {
    const lines = ir.modules.flatMap((m) => [
      ...codeChecks(coreLine).map(([check, why]) => `${relative(collectionModule(ir, m.name))} ${check} # ${why}`),
      `${relative(collectionModuleDoc(ir, m.name))} ${DOC_LICENSE_HEADER[0]} # ${DOC_LICENSE_HEADER[1]}`,
    ]);
    lines.push(`${relative(collectionInventoryPlugin(ir))} ${PLUGIN_LICENSE_HEADER[0]} # ${PLUGIN_LICENSE_HEADER[1]}`);
    return `${lines.sort().join("\n")}\n`;
  };
  return new Map(
    ir.collection.testedAnsibleCore.map((line) => [collectionFile(ir, sanityIgnoreFile(line)), ignoreFile(line)]),
  );
}
