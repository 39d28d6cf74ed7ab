import * as yaml from "js-yaml";
import type { Ir } from "../ir/types";
import { hashHeader } from "./header";

/**
 * Deterministic YAML that yamllint and ansible-lint accept: document start, no refs, no folding.
 * `types` adds tagged scalars (the inventory's !unsafe strings).
 */
export function toYaml(value: unknown, types: yaml.Type[] = []): string {
  const schema = types.length ? yaml.DEFAULT_SCHEMA.extend(types) : yaml.DEFAULT_SCHEMA;
  return yaml.dump(value, { lineWidth: -1, noRefs: true, quotingType: '"', sortKeys: false, schema });
}

export function yamlFile(ir: Ir, value: unknown, comment?: string): string {
  const why = comment
    ? comment
        .split("\n")
        .map((l) => `# ${l}`.trimEnd())
        .join("\n") + "\n"
    : "";
  return `${hashHeader(ir)}${why}---\n${toYaml(value)}`;
}
