import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { COLLECTION, ROOT, tmpDir, tool } from "./helpers/tools";
import { loadSchema } from "../src/schema/load";
import { VfsError, formatDiagnostic } from "../src/errors/messages";

/*
 * What a release needs besides working code: the sanity ignore files (only what a Node.js module can
 * never pass), the licence, the antsibull-changelog changelog and the ansible-builder definition.
 * The ansible-test run itself is scripts/test-sanity.sh (a tier of npm test).
 */
const meta = JSON.parse(fs.readFileSync(path.join(ROOT, "schemas/collection.json"), "utf8"));
const MODULES = Object.keys(meta.modules).sort();

describe("ansible-test sanity ignore files", () => {
  it("exist for exactly the ansible-core lines schemas/collection.json claims as tested", () => {
    const files = fs.readdirSync(path.join(COLLECTION, "tests/sanity")).sort();
    expect(files).toEqual(meta.tested_ansible_core.map((v: string) => `ignore-${v}.txt`).sort());
  });

  it.each(meta.tested_ansible_core as string[])(
    "ignore-%s.txt ignores only the checks a Node.js module or the MIT inventory plugin cannot pass, each with its reason",
    (line) => {
      const text = fs.readFileSync(path.join(COLLECTION, `tests/sanity/ignore-${line}.txt`), "utf8");
      const entries = text
        .trimEnd()
        .split("\n")
        .map((l) => {
          const m = /^(\S+) (\S+) # (.+)$/.exec(l);
          expect({ line: l, parsed: Boolean(m) }).toEqual({ line: l, parsed: true });
          return `${m![1]} ${m![2]}`;
        });
      // Before 2.17 validate-modules stops at parsing the module as Python, before the licence check.
      const codeCheck = Number(line.split(".")[1]) < 17 ? "python-syntax-error" : "missing-gplv3-license";
      const expected = MODULES.flatMap((m) => [
        `plugins/modules/${m}.cjs shebang`,
        `plugins/modules/${m}.cjs validate-modules:invalid-extension`,
        `plugins/modules/${m}.cjs validate-modules:${codeCheck}`,
        `plugins/modules/${m}.yml validate-modules:missing-gplv3-license`,
      ]);
      // The inventory plugin is Python, so only its MIT header (not GPLv3) needs an entry, on every line.
      expected.push("plugins/inventory/vfs_cluster.py validate-modules:missing-gplv3-license");
      expect(entries.sort()).toEqual(expected.sort());
    },
  );

  it("has one pinned ansible-core for every claimed line: the venv's in requirements.txt, the others in requirements-sanity.txt", () => {
    const pins = (file: string) =>
      fs
        .readFileSync(path.join(ROOT, file), "utf8")
        .split("\n")
        .flatMap((l) => /^ansible-core==(2\.[0-9]+)\.[0-9]+$/.exec(l)?.[1] ?? []);
    const main = pins("requirements.txt");
    // The venv every other test runs in holds the newest line.
    expect(main).toEqual([[...meta.tested_ansible_core].sort().at(-1)]);
    expect([...main, ...pins("requirements-sanity.txt")].sort()).toEqual([...meta.tested_ansible_core].sort());
    // requires_ansible is the oldest line the suite runs
    expect(meta.requires_ansible).toBe(`>=${[...meta.tested_ansible_core].sort()[0]}.0`);
  });
});

describe("collection facts these files come from", () => {
  it("refuses an author without a GitHub handle, a licence whose text the generator lacks, a bad line", () => {
    const dir = tmpDir("meta");
    fs.cpSync(path.join(ROOT, "schemas"), path.join(dir, "schemas"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "schemas/collection.json"),
      JSON.stringify({ ...meta, authors: ["Someone"], license: "GPL-3.0-or-later", tested_ansible_core: ["2.19.1"] }),
    );
    let error: unknown;
    try {
      loadSchema(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VfsError);
    expect((error as VfsError).diagnostics.map(formatDiagnostic)).toEqual([
      'schemas/collection.json:1:1: error[VFS040] /authors/0: schema: must match pattern "^[^()]+ \\(@[A-Za-z0-9-]+\\)$"',
      "schemas/collection.json:1:1: error[VFS040] /license: schema: must be equal to one of the allowed values",
      'schemas/collection.json:1:1: error[VFS040] /tested_ansible_core/0: schema: must match pattern "^2\\.[0-9]+$"',
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("licence", () => {
  it("is the MIT text with the collection.json holder, the same in the repository and the collection", () => {
    const repo = fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8");
    expect(repo.split("\n").slice(0, 3)).toEqual(["MIT License", "", `Copyright (c) ${meta.copyright}`]);
    expect(repo).toContain("Permission is hereby granted, free of charge");
    expect(fs.readFileSync(path.join(COLLECTION, "LICENSE"), "utf8")).toBe(repo);
  });

  it("is declared alike in package.json, galaxy.yml and collection.json", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const galaxy = yaml.load(fs.readFileSync(path.join(COLLECTION, "galaxy.yml"), "utf8")) as { license: string[] };
    expect(meta.license).toBe("MIT");
    expect(pkg.license).toBe(meta.license);
    expect(galaxy.license).toEqual([meta.license]);
  });
});

describe("changelog (antsibull-changelog)", () => {
  it("lints, and CHANGELOG.md is exactly what antsibull-changelog renders from changelog.yaml", async () => {
    const r = await tool("bash", ["scripts/changelog.sh", "check"]);
    expect(r.all).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("fails the check on a hand-edited CHANGELOG.md", async () => {
    const copy = path.join(tmpDir("changelog"), "changelogs");
    fs.cpSync(path.join(ROOT, "changelogs"), copy, { recursive: true });
    fs.appendFileSync(path.join(copy, "CHANGELOG.md"), "\n* a line nobody released\n");
    const r = await tool("bash", ["scripts/changelog.sh", "check"], { env: { CHANGELOG_SOURCES: copy } });
    expect(r.stderr).toContain("is not what antsibull-changelog renders");
    expect(r.exitCode).toBe(1);
  });

  it("has a release for the collection's version, and the collection carries both files", () => {
    const data = yaml.load(fs.readFileSync(path.join(ROOT, "changelogs/changelog.yaml"), "utf8")) as {
      releases: Record<string, unknown>;
    };
    expect(Object.keys(data.releases)).toContain(meta.version);
    expect(fs.readFileSync(path.join(COLLECTION, "CHANGELOG.md"), "utf8")).toContain(
      fs.readFileSync(path.join(ROOT, "changelogs/CHANGELOG.md"), "utf8"),
    );
    expect(fs.readFileSync(path.join(COLLECTION, "changelogs/changelog.yaml"), "utf8")).toContain(
      fs.readFileSync(path.join(ROOT, "changelogs/changelog.yaml"), "utf8"),
    );
  });
});

describe("collection README", () => {
  it("installs the tarball with the requirements.yml it shows", async () => {
    const readme = fs.readFileSync(path.join(COLLECTION, "README.md"), "utf8");
    const requirements = /```yaml\n([\s\S]*?)```/.exec(readme)![1];
    const dir = tmpDir("readme");
    fs.writeFileSync(path.join(dir, "requirements.yml"), requirements);
    expect((await tool("ansible-galaxy", ["collection", "build", COLLECTION, "--output-path", dir])).exitCode).toBe(0);
    const install = await tool(
      "ansible-galaxy",
      ["collection", "install", "-r", "requirements.yml", "-p", "installed", "--offline"],
      { cwd: dir },
    );
    expect(install.exitCode).toBe(0);
    expect(fs.existsSync(path.join(dir, `installed/ansible_collections/${meta.namespace}/${meta.name}/LICENSE`))).toBe(
      true,
    );
    expect(readme.replace(/\s+/g, " ")).toContain(
      `Tested: \`ansible-test sanity\` with ansible-core ${meta.tested_ansible_core.join(", ")}`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("execution environment (ansible-builder)", () => {
  it("creates a build context whose galaxy stage installs the collection from its tarball", async () => {
    const dir = tmpDir("ee");
    fs.copyFileSync(path.join(ROOT, "execution-environment.yml"), path.join(dir, "execution-environment.yml"));
    const build = await tool("ansible-galaxy", ["collection", "build", COLLECTION, "--output-path", dir]);
    expect(build.exitCode).toBe(0);
    const create = await tool(
      "ansible-builder",
      ["create", "-f", "execution-environment.yml", "-c", "context", "--output-filename", "Containerfile"],
      { cwd: dir },
    );
    expect(create.all).toContain("Complete!");
    expect(create.exitCode).toBe(0);
    const containerfile = fs.readFileSync(path.join(dir, "context/Containerfile"), "utf8");
    expect(containerfile).toContain(`ARG EE_BASE_IMAGE="${meta.execution_environment.base_image}"`);
    expect(containerfile).toMatch(/ansible-galaxy collection install .*-r requirements.yml/);
    // The galaxy stage: COPY _build /build, WORKDIR /build, then the install above. Done here offline.
    const installed = path.join(dir, "installed");
    const install = await tool(
      "ansible-galaxy",
      ["collection", "install", "-r", "requirements.yml", "--collections-path", installed, "--offline"],
      { cwd: path.join(dir, "context/_build") },
    );
    expect(install.exitCode).toBe(0);
    const manifest = JSON.parse(
      fs.readFileSync(path.join(installed, `ansible_collections/${meta.namespace}/${meta.name}/MANIFEST.json`), "utf8"),
    );
    expect(manifest.collection_info.version).toBe(meta.version);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
