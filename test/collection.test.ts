import * as fs from "fs";
import * as path from "path";
import { COLLECTION, ROOT, tmpDir, tool } from "./helpers/tools";

describe("the generated collection with the real Ansible tools", () => {
  it("is ansible-lint clean with the production profile", async () => {
    const r = await tool("ansible-lint", ["--profile", "production", "--offline", "--nocolor", "."], {
      cwd: COLLECTION,
      env: { ANSIBLE_COLLECTIONS_PATH: path.join(ROOT, "collection") },
    });
    expect(r.all).toMatch(/Passed: 0 failure\(s\), 0 warning\(s\)/);
    expect(r.exitCode).toBe(0);
  });

  it("is yamllint clean", async () => {
    const r = await tool("yamllint", [
      "--strict",
      "-c",
      path.join(COLLECTION, ".yamllint"),
      COLLECTION,
      path.join(ROOT, "generated/ansible"),
    ]);
    expect(r.all).toBe("");
    expect(r.exitCode).toBe(0);
  });

  describe("built and installed offline", () => {
    const work = tmpDir("galaxy");
    const installed = path.join(work, "collections");
    const env = { ANSIBLE_COLLECTIONS_PATH: installed };
    let tarball = "";
    beforeAll(async () => {
      const build = await tool("ansible-galaxy", ["collection", "build", COLLECTION, "--output-path", work, "--force"]);
      if (build.exitCode !== 0) throw new Error(build.all);
      tarball = path.join(
        work,
        fs.readdirSync(work).find((f) => f.endsWith(".tar.gz"))!,
      );
      const install = await tool("ansible-galaxy", [
        "collection",
        "install",
        tarball,
        "-p",
        installed,
        "--offline",
        "--force",
      ]);
      if (install.exitCode !== 0) throw new Error(install.all);
    });

    it("ships the bundled modules and no sources", () => {
      const base = path.join(installed, "ansible_collections/ai_how/virtio_fs");
      const modules = fs.readdirSync(path.join(base, "plugins/modules")).sort();
      expect(modules).toEqual([
        "virtio_fs_domain.cjs",
        "virtio_fs_domain.yml",
        "virtio_fs_info.cjs",
        "virtio_fs_info.yml",
        "virtio_fs_mount.cjs",
        "virtio_fs_mount.yml",
      ]);
      expect(fs.readFileSync(path.join(base, "plugins/modules/virtio_fs_mount.cjs"), "utf8")).toMatch(
        /^#!\/usr\/bin\/node\n\/\/ WANT_JSON\n/,
      );
    });

    it("ships the MIT licence, the antsibull-changelog changelog and the sanity ignore file in the tarball", async () => {
      const list = await tool("tar", ["-tzf", tarball]);
      expect(list.exitCode).toBe(0);
      const files = list.stdout.split("\n");
      for (const f of ["LICENSE", "CHANGELOG.md", "changelogs/changelog.yaml", "tests/sanity/ignore-2.19.txt"])
        expect(files).toContain(f);
      const license = await tool("tar", ["-xzOf", tarball, "LICENSE"]);
      expect(license.stdout).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} \S/);
      expect(license.stdout).toBe(fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8").trimEnd());
      expect(files.filter((f) => f.startsWith("tests/output"))).toEqual([]);
    });

    it("documents the guest role from argument_specs", async () => {
      const r = await tool("ansible-doc", ["-t", "role", "ai_how.virtio_fs.virtio_fs_mount"], { env });
      expect(r.exitCode).toBe(0);
      for (const v of ["virtio_fs_mounts", "virtio_fs_default_options", "packer_build", "rw,relatime,nofail"])
        expect(r.stdout).toContain(v);
    });

    it.each(["virtio_fs_mount", "virtio_fs_info", "virtio_fs_domain"])(
      "documents the %s module from its sidecar",
      async (m) => {
        const r = await tool("ansible-doc", [`ai_how.virtio_fs.${m}`], { env });
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toContain("EXAMPLES");
        expect(r.stdout).toContain("RETURN VALUES");
      },
    );

    it("syntax-checks the runtime playbook by its FQCN", async () => {
      const r = await tool(
        "ansible-playbook",
        ["--syntax-check", "-i", "localhost,", "ai_how.virtio_fs.virtio_fs_runtime_config"],
        { env, cwd: work },
      );
      expect(r.all).toContain("ansible_collections/ai_how/virtio_fs/playbooks/virtio_fs_runtime_config.yml");
      expect(r.exitCode).toBe(0);
    });

    it("syntax-checks the seed-compatible playbook where the seed runs it", async () => {
      const r = await tool("ansible-playbook", [
        "--syntax-check",
        "-i",
        "localhost,",
        "generated/ansible/playbooks/playbook-virtio-fs-runtime-config.yml",
      ]);
      expect(r.exitCode).toBe(0);
    });
  });
});
