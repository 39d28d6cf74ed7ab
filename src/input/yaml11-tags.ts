import type { Tags } from "yaml";

/*
 * `yaml`'s YAML 1.1 schema follows the 1.1 type drafts, which are looser than PyYAML's resolver: it
 * reads `y`/`n` as booleans, `09` and `1e3` as numbers and `1:30` with a leading zero as sexagesimal.
 * Ansible reads variables with PyYAML, where all of these are strings. Both readers of
 * configurations (source-map.ts and yaml11-fast.ts) use these tags, so `vfsgen validate` sees exactly
 * the types Ansible will (test/input-readers.test.ts compares with PyYAML itself).
 */
const PYYAML_TESTS: { tag: string; format?: string; when?: (t: RegExp) => boolean; test: RegExp }[] = [
  { tag: "bool", when: (t) => t.test("yes"), test: /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/ },
  { tag: "bool", when: (t) => t.test("no"), test: /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/ },
  { tag: "int", format: "", test: /^[-+]?(?:0|[1-9][0-9_]*)$/ },
  { tag: "int", format: "TIME", test: /^[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+$/ },
  { tag: "float", format: "", when: (t) => t.test(".inf"), test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/ },
  { tag: "float", format: "", when: (t) => !t.test(".inf"), test: /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/ },
  { tag: "float", format: "EXP", test: /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*[eE][-+][0-9]+|\.[0-9_]+[eE][-+][0-9]+)$/ },
];

interface ScalarTagLike {
  tag: string;
  format?: string;
  test?: RegExp;
}

/** customTags for `yaml`: its YAML 1.1 tags with PyYAML's regular expressions. */
export function pyyamlTags(tags: Tags): Tags {
  return tags.map((t) => {
    const s = t as ScalarTagLike;
    if (!(s.test instanceof RegExp)) return t;
    const o = PYYAML_TESTS.find(
      (p) =>
        s.tag === `tag:yaml.org,2002:${p.tag}` &&
        (p.format === undefined || p.format === (s.format ?? "")) &&
        (!p.when || p.when(s.test!)),
    );
    return o ? Object.assign({}, t, { test: o.test }) : t;
  });
}
