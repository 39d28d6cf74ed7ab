import * as fs from "fs";
import * as path from "path";
import type { Ir } from "../../ir/types";
import type { EmitContext, Outputs } from "../outputs";
import { VfsError, diagnostic } from "../../errors/messages";
import { CHANGELOG_SOURCES, COLLECTION_FILES as F, collectionFile } from "../layout";
import { hashHeader, htmlHeader } from "../header";
import { yamlFile } from "../yaml";

/**
 * antsibull-changelog's configuration, from the collection's facts. CHANGELOG.md, not .rst: the
 * collection's README and the repository are Markdown. Everything else is antsibull-changelog's
 * default (`antsibull-changelog init`), spelled out so its meaning does not change with its version.
 */
function changelogConfig(ir: Ir): Record<string, unknown> {
  return {
    title: `${ir.collection.namespace}.${ir.collection.name}`,
    changes_file: "changelog.yaml",
    changes_format: "combined",
    notesdir: "fragments",
    keep_fragments: false,
    output: [{ file: F.changelog, format: "md" }],
    // yamllint --strict clean changelog.yaml (the collection's .yamllint)
    changelog_nice_yaml: true,
    changelog_sort: "alphanumerical",
    add_plugin_period: true,
    mention_ancestor: true,
    new_plugins_after_name: "removed_features",
    prelude_section_name: "release_summary",
    prelude_section_title: "Release Summary",
    sanitize_changelog: true,
    ignore_other_fragment_extensions: true,
    use_fqcn: true,
    vcs: "none",
    trivial_section_name: "trivial",
    sections: [
      ["major_changes", "Major Changes"],
      ["minor_changes", "Minor Changes"],
      ["breaking_changes", "Breaking Changes / Porting Guide"],
      ["deprecated_features", "Deprecated Features"],
      ["removed_features", "Removed Features (previously deprecated)"],
      ["security_fixes", "Security Fixes"],
      ["bugfixes", "Bugfixes"],
      ["known_issues", "Known Issues"],
    ],
  };
}

function readSource(root: string, file: string): string {
  try {
    return fs.readFileSync(path.join(root, file), "utf8");
  } catch (e) {
    throw new VfsError([
      {
        ...diagnostic("VFS002", "", { detail: `${file}: ${(e as Error).message} (scripts/changelog.sh release writes it)` }),
        file,
      },
    ]);
  }
}

/**
 * The collection's changelog: config.yaml from the facts, and changelog.yaml and CHANGELOG.md as
 * antsibull-changelog wrote them under changelogs/ (hand-kept sources, like src/runtime for the
 * modules emitter), so `generate --check` fails when the collection's copy drifts from them.
 */
export function emitChangelog(ir: Ir, { root }: EmitContext): Outputs {
  const data = readSource(root, CHANGELOG_SOURCES.data);
  return new Map([
    [collectionFile(ir, F.changelogConfig), yamlFile(ir, changelogConfig(ir))],
    [collectionFile(ir, F.changelogData), `${hashHeader(ir)}${data.startsWith("---\n") ? "" : "---\n"}${data}`],
    [collectionFile(ir, F.changelog), `${htmlHeader(ir)}${readSource(root, CHANGELOG_SOURCES.rendered)}`],
  ]);
}
