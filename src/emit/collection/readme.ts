import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { htmlHeader } from "../header";
import { hypervisorsGroup } from "../../ir/lookup";
import {
  COLLECTION_FILES as F,
  EXECUTION_ENVIRONMENT,
  INVENTORY_PLUGIN,
  collectionFile,
  collectionTarball,
} from "../layout";
import { newestCoreLine } from "./core-lines";

/** The collection's README.md: what Galaxy and Automation Hub show, and what ships in the tarball. */
export function emitCollectionReadme(ir: Ir): Outputs {
  const c = ir.collection;
  const fqcn = `${c.namespace}.${c.name}`;
  const tarball = collectionTarball(ir);
  const rolesTable = ir.roles.map((r) => `| \`${fqcn}.${r.name}\` (role) | ${r.side} | ${r.shortDescription} |`).join("\n");
  const modulesTable = ir.modules.map((m) => `| \`${fqcn}.${m.name}\` | ${m.side} | ${m.doc.shortDescription} |`).join("\n");
  const platforms = c.platforms.map((p) => `- ${p.name}: ${p.versions.join(", ")}`).join("\n");
  const tested = c.testedAnsibleCore.join(", ");
  const readme = `${htmlHeader(ir)}# ${fqcn}

${ir.description}

## Contents

| Name | Runs on | What it does |
|---|---|---|
${rolesTable}
| \`${fqcn}.virtio_fs_runtime_config\` (playbook) | guest | Applies the guest role to running VMs |
| \`${fqcn}.virtio_fs_cluster_config\` (playbook) | host, then guest | For a \`vfsgen inventory\`: the host role on the \`${hypervisorsGroup(ir)}\` group, then the guest role on the VMs, in one run |
| \`${fqcn}.${INVENTORY_PLUGIN}\` (inventory plugin) | controller | Reads a cluster configuration (\`*.vfs.yml\`) as an inventory, as \`vfsgen inventory\` writes it |
${modulesTable}

## Requirements

- ansible-core ${c.requiresAnsible} (\`meta/runtime.yml\`). Tested: \`ansible-test sanity\` with ansible-core
  ${tested} (one \`tests/sanity/ignore-<version>.txt\` each); the roles, the playbook and the modules
  run with ansible-core ${newestCoreLine(ir)} (playbooks on localhost, Molecule on real VMs).
- Guests (targets of the guest role and the guest modules): Node.js 18 or later. The modules are
  Node.js programs run with \`ansible_node_interpreter\` (default \`/usr/bin/node\`); the guest role
  installs Node.js when it is missing. Python, as on any Ansible target, for the roles' ansible.builtin tasks.
- Hypervisor hosts (the host role and \`${fqcn}.virtio_fs_domain\`): libvirt, QEMU and virtiofsd, and
  Node.js 18 or later for the module.

## Supported platforms

${platforms}

## Install

From the release tarball (built with \`ansible-galaxy collection build\`):

\`\`\`sh
ansible-galaxy collection install ${tarball}
\`\`\`

From a \`requirements.yml\`, with the tarball next to it:

\`\`\`yaml
---
collections:
  - name: ./${tarball}
    type: file
\`\`\`

\`\`\`sh
ansible-galaxy collection install -r requirements.yml
\`\`\`

For AWX or Automation Platform, \`${EXECUTION_ENVIRONMENT}\` in the source repository builds an execution
environment with the collection (\`ansible-builder build\`, the tarball next to the file).

## Use

\`\`\`sh
ansible-playbook -i inventory.yml ${fqcn}.virtio_fs_runtime_config
ansible-doc -t role ${fqcn}.virtio_fs_mount
ansible-doc ${fqcn}.virtio_fs_mount
\`\`\`

## Changelog

[CHANGELOG.md](CHANGELOG.md), written by antsibull-changelog from \`changelogs/changelog.yaml\`.

## Licence

${c.license} (see [LICENSE](LICENSE)), copyright ${c.copyright}.
`;
  return new Map([[collectionFile(ir, F.readme), readme]]);
}
