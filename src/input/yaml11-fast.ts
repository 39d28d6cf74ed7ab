import * as jsyaml from "js-yaml";
import { Document, isScalar } from "yaml";
import { pyyamlTags } from "./yaml11-tags";

/*
 * The fast reader of configurations. `yaml` (the library behind source-map.ts) keeps every node's
 * position, which costs about ten times what js-yaml needs to read a 1 000-VM cluster file; positions
 * are only wanted when there is something to report. So a configuration is first read by js-yaml with
 * the scalar rules taken from the `yaml` schema source-map.ts uses (YAML 1.1 with PyYAML's regular
 * expressions, yaml11-tags.ts; same resolve functions, same order), and source-map.ts parses it again
 * with `yaml` only when a message needs a line. test/input-readers.test.ts checks that both readers
 * return the same data for every fixture.
 */

interface ScalarTag {
  tag: string;
  test: RegExp;
  resolve: (source: string, onError: (msg: string) => void, options: { intAsBigInt: boolean }) => unknown;
}

function yaml11Types(): jsyaml.Type[] {
  const tags = (
    new Document(null, { version: "1.1", customTags: pyyamlTags }).schema as unknown as {
      tags: (ScalarTag & { default?: unknown })[];
    }
  ).tags.filter((t) => t.default === true && t.test instanceof RegExp);
  const byTag = new Map<string, ScalarTag[]>();
  for (const t of tags) byTag.set(t.tag, [...(byTag.get(t.tag) ?? []), t]);
  return [...byTag].map(([tag, variants]) => {
    // js-yaml calls resolve, then construct, with the same text: remember the match in between
    let lastText: string | undefined;
    let lastMatch: ScalarTag | undefined;
    const find = (s: string) => {
      if (s !== lastText) [lastText, lastMatch] = [s, variants.find((v) => v.test.test(s))];
      return lastMatch;
    };
    return new jsyaml.Type(tag, {
      kind: "scalar",
      resolve: (s: string | null) => find(s ?? "") !== undefined,
      construct: (s: string | null) => {
        const v = find(s ?? "")!;
        const r = v.resolve(
          s ?? "",
          (msg) => {
            throw new Error(msg);
          },
          { intAsBigInt: false },
        );
        return isScalar(r) ? r.value : r;
      },
    });
  });
}

let schema: jsyaml.Schema | undefined;

/** The YAML 1.1 schema PyYAML (so Ansible) resolves plain scalars with. */
function yaml11Schema(): jsyaml.Schema {
  // js-yaml exports its built-in types at run time; @types/js-yaml does not declare them
  const t = (jsyaml as unknown as { types: Record<"merge" | "binary" | "omap" | "pairs" | "set", jsyaml.Type> }).types;
  schema ??= jsyaml.FAILSAFE_SCHEMA.extend({
    implicit: [...yaml11Types(), t.merge],
    explicit: [t.binary, t.omap, t.pairs, t.set],
  });
  return schema;
}

/** Any alias: js-yaml shares aliased nodes and has no alias budget, so such input takes the careful path. */
const MAYBE_ALIAS = /(?:^|[\s,[{:-])\*\S/m;

/**
 * The data of a single-document YAML 1.1 text, or undefined when the fast reader cannot be trusted
 * with it (any error, or aliases): the caller then parses with `yaml`, which reports errors precisely.
 */
export function loadYaml11Fast(text: string): { data: unknown } | undefined {
  if (MAYBE_ALIAS.test(text)) return undefined;
  try {
    const data = jsyaml.load(text, { schema: yaml11Schema() });
    return { data: data === undefined ? null : data };
  } catch {
    return undefined;
  }
}
