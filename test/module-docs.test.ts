import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { COLLECTION } from "./helpers/tools";

/*
 * What ansible-test validate-modules requires of module DOCUMENTATION and cannot check on a Node.js
 * module itself (it compares argument specs with docs for Python modules only), checked on the
 * shipped sidecars. The full ansible-test run is scripts/test-sanity.sh.
 */
type Doc = { DOCUMENTATION: Record<string, unknown> };
const docOf = (m: string): Doc =>
  yaml.load(fs.readFileSync(path.join(COLLECTION, `plugins/modules/${m}.yml`), "utf8")) as Doc;
const MODULES = ["virtio_fs_mount", "virtio_fs_info", "virtio_fs_domain"];

/** Every nested option spec of a DOCUMENTATION or argument_specs options mapping, with its keys. */
function nestedKeys(options: Record<string, Record<string, unknown>>): string[] {
  return Object.values(options).flatMap((o) => [
    ...Object.keys(o).filter((k) => k === "options" || k === "suboptions"),
    ...["options", "suboptions"].flatMap((k) =>
      o[k] ? nestedKeys(o[k] as Record<string, Record<string, unknown>>) : [],
    ),
  ]);
}

describe("module documentation", () => {
  it.each(["virtio_fs_mount", "virtio_fs_domain"])("%s nests the share fields as suboptions", (m) => {
    const options = docOf(m).DOCUMENTATION.options as Record<string, Record<string, unknown>>;
    expect(Object.keys(options.mounts.suboptions as object)).toEqual(expect.arrayContaining(["tag", "mount_point"]));
    expect(nestedKeys(options)).not.toContain("options");
  });

  it("keeps options (not suboptions) in the role argument specs", () => {
    const specs = yaml.load(
      fs.readFileSync(path.join(COLLECTION, "roles/virtio_fs_mount/meta/argument_specs.yml"), "utf8"),
    ) as { argument_specs: { main: { options: Record<string, Record<string, unknown>> } } };
    const keys = nestedKeys(specs.argument_specs.main.options);
    expect(keys).toContain("options");
    expect(keys).not.toContain("suboptions");
  });

  it.each(MODULES)("%s names its authors as Name (@handle)", (m) => {
    const authors = docOf(m).DOCUMENTATION.author as string[];
    expect(authors.length).toBeGreaterThan(0);
    for (const a of authors) expect(a).toMatch(/^[^()]+ \(@[A-Za-z0-9-]+\)$/);
  });

  it("virtio_fs_info, an info module, has no diff mode; the changing modules have full diff mode", () => {
    const attrs = (m: string) => docOf(m).DOCUMENTATION.attributes as Record<string, { support: string }>;
    expect(attrs("virtio_fs_info").diff_mode.support).toBe("N/A");
    expect(attrs("virtio_fs_info").check_mode.support).toBe("full");
    expect(attrs("virtio_fs_mount").diff_mode.support).toBe("full");
    expect(attrs("virtio_fs_domain").diff_mode.support).toBe("full");
  });
});
