import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { README_FIELDS } from "../layout";
import { fieldsTable, variablesTable } from "../markdown";
import { platformsTable } from "../role/platform-vars";

/** The README's field tables, spliced between its GENERATED markers. */
export function emitReadmeTables(ir: Ir): Outputs {
  const text = `### Share fields (items of \`virtio_fs_mounts\`)

${fieldsTable(ir.share.fields, { host_path: "host side" })}

### Role variables

${variablesTable(ir.roleVariables)}

### Platforms

The roles choose these variables from the host's facts (\`vars/\` files per OS family, family and major
version, distribution, and distribution and major version); setting one yourself overrides the choice.
Only the platforms the VM tests boot are in \`galaxy_info.platforms\`; the guest role also refuses a
Node.js older than ${ir.collection.nodeMinVersion} before its first module call.

${platformsTable(
  ir,
  ir.roleVariables.filter((v) => v.platformValues),
)}

### Cluster VM fields (\`clusters.<cluster>.<vm>\`)

${fieldsTable(ir.clusterVm.fields)}

### Domain template variables (\`controller.xml.j2\`)

${fieldsTable(ir.domainTemplate.fields)}
`;
  return new Map([[README_FIELDS, text]]);
}
