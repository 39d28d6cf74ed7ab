import * as fs from "fs";
import * as path from "path";
import { VfsError, diagnostic } from "../errors/messages";

const SCHEMA_RELATIVE_PATH = "schemas/virtio-fs-mount.schema.json";

export type JsonSchema = { [key: string]: unknown };

export interface LoadedSchema {
  /** Path relative to the repository root, as named in generated headers. */
  relativePath: string;
  schema: JsonSchema;
}

/** Phase 1: read the one source schema. */
export function loadSchema(root: string): LoadedSchema {
  const file = path.join(root, SCHEMA_RELATIVE_PATH);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new VfsError([{ ...diagnostic("VFS002", "", { detail: (e as Error).message }), file: SCHEMA_RELATIVE_PATH }]);
  }
  try {
    return { relativePath: SCHEMA_RELATIVE_PATH, schema: JSON.parse(text) as JsonSchema };
  } catch (e) {
    throw new VfsError([{ ...diagnostic("VFS040", "", { detail: `invalid JSON: ${(e as Error).message}` }), file: SCHEMA_RELATIVE_PATH }]);
  }
}
