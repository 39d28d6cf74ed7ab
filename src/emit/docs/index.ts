import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { README_FIELDS } from "../layout";
import { fieldsTable, variablesTable } from "../markdown";

/** The README's field tables, spliced between its GENERATED markers. */
export function emitReadmeTables(ir: Ir): Outputs {
  const text = `### Share fields (items of \`virtio_fs_mounts\`)

${fieldsTable(ir.share.fields, { host_path: "host side" })}

### Role variables

${variablesTable(ir.roleVariables)}

### Cluster VM fields (\`clusters.<cluster>.<vm>\`)

${fieldsTable(ir.clusterVm.fields)}

### Domain template variables (\`controller.xml.j2\`)

${fieldsTable(ir.domainTemplate.fields)}
`;
  return new Map([[README_FIELDS, text]]);
}
