import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { EXECUTION_ENVIRONMENT, collectionTarball } from "../layout";
import { yamlFile } from "../yaml";
import { newestCoreLine } from "./core-lines";

/** The newest tested ansible-core line as a pip requirement: "2.19" -> "ansible-core~=2.19.0". */
function ansibleCoreRequirement(ir: Ir): string {
  return `ansible-core~=${newestCoreLine(ir)}.0`;
}

/**
 * execution-environment.yml (ansible-builder version 3) for AWX / Automation Platform: the tested
 * ansible-core line, ansible-runner, and the collection installed from its tarball, which
 * `ansible-galaxy collection build` writes next to this file. Node.js is not installed: the modules
 * run on the guests and hypervisors, never in the execution environment.
 */
export function emitExecutionEnvironment(ir: Ir): Outputs {
  const ee = ir.collection.executionEnvironment;
  const tarball = collectionTarball(ir);
  const definition = {
    version: 3,
    images: { base_image: { name: ee.baseImage } },
    dependencies: {
      python_interpreter: {
        package_system: ee.pythonInterpreter.packageSystem,
        python_path: ee.pythonInterpreter.pythonPath,
      },
      ansible_core: { package_pip: ansibleCoreRequirement(ir) },
      ansible_runner: { package_pip: ee.ansibleRunner },
      // The galaxy stage runs in the build context, where additional_build_files put the tarball.
      galaxy: { collections: [{ name: `collections/${tarball}`, type: "file" }] },
    },
    additional_build_files: [{ src: tarball, dest: "collections" }],
  };
  const why = `ansible-builder definition of an execution environment with ${ir.collection.namespace}.${ir.collection.name}.
Build the collection next to this file, then the image:
  ansible-galaxy collection build collection/ansible_collections/${ir.collection.namespace}/${ir.collection.name}
  ansible-builder build -f ${EXECUTION_ENVIRONMENT} -t ${ir.collection.name}-ee`;
  return new Map([[EXECUTION_ENVIRONMENT, yamlFile(ir, definition, why)]]);
}
