import * as fs from "fs";
import * as path from "path";
import { Messages, formatDiagnostic, type MessageCode } from "../src/errors/messages";
import { artifactUri } from "../src/errors/report-formats";
import { ROOT, VENV_BIN, tmpDir, tool, vfsgen } from "./helpers/tools";

// `vfsgen --version` and `vfsgen validate --format json|sarif`: what tools and dashboards read.
const MODE = "test/invalid/21-mode-unquoted.yml";
const MEMORY = "test/invalid/123-memory-gb-string.yml";
const DUPLICATE = "test/invalid/09-tag-duplicate.yml";
const SEED = "test/valid/seed-cluster.yml";
const CODES = Object.keys(Messages);
const version = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;

describe("vfsgen --version", () => {
  it("prints package.json's version, exit 0", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await vfsgen([flag]);
      expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, `${version}\n`, ""]);
    }
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("vfsgen validate --format", () => {
  it("json: every diagnostic with code, file, line, column, pointer and message; each file; exit 1", async () => {
    const r = await vfsgen(["validate", "--format", "json", SEED, MODE, MEMORY]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`{
  "valid": false,
  "files": [
    {
      "file": "test/valid/seed-cluster.yml",
      "kind": "cluster",
      "vms": 1,
      "shares": 2,
      "valid": true
    },
    {
      "file": "test/invalid/21-mode-unquoted.yml",
      "kind": "vars",
      "vms": 0,
      "shares": 1,
      "valid": false
    },
    {
      "file": "test/invalid/123-memory-gb-string.yml",
      "kind": "cluster",
      "vms": 1,
      "shares": 0,
      "valid": false
    }
  ],
  "diagnostics": [
    {
      "code": "VFS015",
      "severity": "error",
      "file": "test/invalid/21-mode-unquoted.yml",
      "line": 4,
      "column": 11,
      "pointer": "/virtio_fs_mounts/0/mode",
      "message": "mode must be a quoted octal string such as \\"0755\\": an unquoted 0755 is read by YAML as the number 493"
    },
    {
      "code": "VFS011",
      "severity": "error",
      "file": "test/invalid/123-memory-gb-string.yml",
      "line": 4,
      "column": 18,
      "pointer": "/clusters/hpc/controller/memory_gb",
      "message": "expected a number from 0.0625 to 16384, got \\"8 GiB\\""
    },
    {
      "code": "VFS017",
      "severity": "error",
      "file": "test/invalid/123-memory-gb-string.yml",
      "line": 5,
      "column": 7,
      "pointer": "/clusters/hpc/controller/ip-address",
      "message": "unknown VM key \\"ip-address\\" (did you mean \\"ip_address\\"?): a VM's keys are cpu_cores, memory_gb, disk_gb, ip_address, hypervisor, virtio_fs_mounts; other keys are allowed only when they are not this close to one of them"
    }
  ]
}
`);
  });

  it("json: a valid file is valid: true with no diagnostics, exit 0", async () => {
    const r = await vfsgen(["validate", "--format", "json", SEED]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      valid: true,
      files: [{ file: SEED, kind: "cluster", vms: 1, shares: 2, valid: true }],
      diagnostics: [],
    });
  });

  it("json: the diagnostics of the whole invalid corpus are the text lines, field for field", async () => {
    const files = fs
      .readdirSync(path.join(ROOT, "test/invalid"))
      .filter((f) => f.endsWith(".yml"))
      .sort()
      .map((f) => `test/invalid/${f}`);
    const r = await vfsgen(["validate", "--format", "json", ...files]);
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(r.stdout) as {
      diagnostics: { code: string; file: string; line: number; column: number; pointer: string; message: string }[];
    };
    // formatDiagnostic is the text format itself (it writes control characters as \uXXXX; JSON carries them raw)
    const asText = report.diagnostics.map((d) =>
      formatDiagnostic({
        code: d.code as MessageCode,
        file: d.file,
        line: d.line,
        col: d.column,
        pointer: d.pointer,
        message: d.message,
      }),
    );
    const expected = files.map((f) => fs.readFileSync(f.replace(/\.yml$/, ".expected"), "utf8")).join("");
    expect(asText.join("\n") + "\n").toBe(expected);
  });

  it("sarif: a SARIF 2.1.0 log whose rules are the message catalogue, valid against the OASIS schema", async () => {
    const r = await vfsgen(["validate", "--format", "sarif", MODE, MEMORY]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("");
    const log = JSON.parse(r.stdout);
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    const run = log.runs[0];
    expect(run.tool.driver).toMatchObject({ name: "vfsgen", version, semanticVersion: version });
    expect(run.tool.driver.rules.map((rule: { id: string }) => rule.id)).toEqual(CODES);
    expect(run.tool.driver.rules[CODES.indexOf("VFS015")]).toEqual({
      id: "VFS015",
      shortDescription: { text: Messages.VFS015 },
      defaultConfiguration: { level: "error" },
    });
    expect(run.columnKind).toBe("utf16CodeUnits");
    const result = (code: string, file: string, line: number, column: number, pointer: string, text: string) => ({
      ruleId: code,
      ruleIndex: CODES.indexOf(code),
      level: "error",
      message: { text },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: file }, region: { startLine: line, startColumn: column } },
          logicalLocations: [{ fullyQualifiedName: pointer }],
        },
      ],
      properties: { pointer },
    });
    expect(run.results).toEqual([
      result(
        "VFS015",
        MODE,
        4,
        11,
        "/virtio_fs_mounts/0/mode",
        'mode must be a quoted octal string such as "0755": an unquoted 0755 is read by YAML as the number 493',
      ),
      result(
        "VFS011",
        MEMORY,
        4,
        18,
        "/clusters/hpc/controller/memory_gb",
        'expected a number from 0.0625 to 16384, got "8 GiB"',
      ),
      result(
        "VFS017",
        MEMORY,
        5,
        7,
        "/clusters/hpc/controller/ip-address",
        `unknown VM key "ip-address" (did you mean "ip_address"?): a VM's keys are cpu_cores, memory_gb, disk_gb, ip_address, hypervisor, virtio_fs_mounts; other keys are allowed only when they are not this close to one of them`,
      ),
    ]);

    // the SARIF schema itself (OASIS, draft-04) judges the invalid, the valid and the whole-document cases
    const dir = tmpDir("sarif");
    const logs = { invalid: r.stdout } as Record<string, string>;
    logs.valid = (await vfsgen(["validate", "--format", "sarif", SEED])).stdout;
    logs.document = (
      await vfsgen(["validate", "--format", "sarif", "test/invalid/04-not-a-config.yml", DUPLICATE])
    ).stdout;
    const paths = Object.entries(logs).map(([name, text]) => {
      const p = path.join(dir, `${name}.json`);
      fs.writeFileSync(p, text);
      return p;
    });
    const check = await tool(path.join(VENV_BIN, "python"), [
      path.join(ROOT, "test/helpers/jsonschema_check.py"),
      "sarif-2.1.0",
      ...paths,
    ]);
    expect(check.exitCode).toBe(0);
    expect(JSON.parse(check.stdout)).toEqual(Object.fromEntries(paths.map((p) => [p, []])));
    expect(JSON.parse(logs.valid).runs[0].results).toEqual([]);
  });

  it("sarif: file names become URI references, percent-encoded; absolute ones file: URIs", () => {
    expect(artifactUri("configs/hpc cluster.yml")).toBe("configs/hpc%20cluster.yml");
    expect(artifactUri("a#b?.yml")).toBe("a%23b%3F.yml");
    expect(artifactUri("/srv/hpc cluster/é.yml")).toBe("file:///srv/hpc%20cluster/%C3%A9.yml");
  });

  it("text stays the default; an unknown format is a usage error (exit 2, VFS060)", async () => {
    const plain = await vfsgen(["validate", MODE]);
    const text = await vfsgen(["validate", "--format", "text", MODE]);
    expect([text.exitCode, text.stdout, text.stderr]).toEqual([plain.exitCode, plain.stdout, plain.stderr]);
    expect(plain.stderr).toBe(fs.readFileSync(MODE.replace(/\.yml$/, ".expected"), "utf8"));
    for (const format of ["xml", "JSON", ""]) {
      const r = await vfsgen(["validate", "--format", format, SEED]);
      expect([r.exitCode, r.stdout, r.stderr]).toEqual([
        2,
        "",
        `vfsgen: error[VFS060] usage: option '--format <format>' argument '${format}' is invalid. expected one of text, json, sarif (vfsgen validate --help shows the usage)\n`,
      ]);
    }
  });
});
