import * as yaml from "js-yaml";
import type { Ir } from "../ir/types";
import { hashHeader } from "./header";

/** Deterministic YAML that yamllint and ansible-lint accept: document start, no refs, no folding. */
export function toYaml(value: unknown): string {
  return yaml.dump(value, { lineWidth: -1, noRefs: true, quotingType: '"', sortKeys: false });
}

export function yamlFile(ir: Ir, value: unknown, comment?: string): string {
  const why = comment ? comment.split("\n").map((l) => `# ${l}`.trimEnd()).join("\n") + "\n" : "";
  return `${hashHeader(ir)}${why}---\n${toYaml(value)}`;
}
