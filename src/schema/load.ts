import * as fs from "fs";
import * as path from "path";
import { VfsError, diagnostic, type Diagnostic } from "../errors/messages";
import { COLLECTION_META_RELATIVE_PATH, collectionMetaProblems, type CollectionMeta } from "./collection-meta";
import type { JsonSchema } from "./json-schema";
import { linkDefaults } from "./linked-defaults";

const SCHEMA_RELATIVE_PATH = "schemas/virtio-fs-mount.schema.json";

export type { JsonSchema };

export interface LoadedSchema {
  /** Path relative to the repository root, as named in generated headers. */
  relativePath: string;
  /** The schema with every x-default-from / x-fallback-from resolved to its value. */
  schema: JsonSchema;
  /** schemas/collection.json, checked against its shape. */
  collection: CollectionMeta;
}

function readJson(root: string, relativePath: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, relativePath), "utf8");
  } catch (e) {
    throw new VfsError([{ ...diagnostic("VFS002", "", { detail: (e as Error).message }), file: relativePath }]);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new VfsError([
      { ...diagnostic("VFS040", "", { detail: `invalid JSON: ${(e as Error).message}` }), file: relativePath },
    ]);
  }
}

/** Phase 1: read the one source schema and the collection's metadata beside it. */
export function loadSchema(root: string): LoadedSchema {
  const schema = readJson(root, SCHEMA_RELATIVE_PATH) as JsonSchema;
  const collection = readJson(root, COLLECTION_META_RELATIVE_PATH);
  const problems: Diagnostic[] = [
    ...linkDefaults(schema).map((p) => ({
      ...diagnostic("VFS040", p.pointer, { detail: p.detail }),
      file: SCHEMA_RELATIVE_PATH,
    })),
    ...collectionMetaProblems(collection).map((p) => ({
      ...diagnostic("VFS040", p.pointer, { detail: p.detail }),
      file: COLLECTION_META_RELATIVE_PATH,
    })),
  ];
  if (problems.length) throw new VfsError(problems);
  return { relativePath: SCHEMA_RELATIVE_PATH, schema, collection: collection as CollectionMeta };
}
