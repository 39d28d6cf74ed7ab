import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bundle, bundleRuntimeOnly, bundleSource, runBundle } from "./harness";

/** A module whose behaviour is chosen by its arguments, run through the real runModule. */
const PROBE = `
import { runModule, ModuleFailure } from "./src/runtime/ansible";
const validate: any = (data: any) => {
  if (data && data.mode === "invalid") {
    validate.errors = [
      { instancePath: "/mounts/0/tag", schemaPath: "#/x", keyword: "pattern", params: { pattern: "^[a-z]+$" }, data: "S3cret/Value", parentSchema: { "x-expected": "a lowercase tag" } },
      { instancePath: "", schemaPath: "#/r", keyword: "required", params: { missingProperty: "mounts" } },
    ];
    return false;
  }
  validate.errors = null;
  return true;
};
runModule("probe", validate, async (args: any, ctx) => {
  if (args.mode === "throw") throw new Error("boom " + args.secret);
  if (args.mode === "fail") throw new ModuleFailure("cannot do it for " + args.secret, { partial: [1, 2] });
  if (args.mode === "warn") { ctx.warn("careful with " + args.secret); ctx.warn("careful with " + args.secret); }
  await new Promise((r) => setTimeout(r, 5));
  return { changed: args.mode === "change", seen: args, ctx: { checkMode: ctx.checkMode, diff: ctx.diff, noLog: ctx.noLog, verbosity: ctx.verbosity } };
});
`;

let probe: string;
beforeAll(() => {
  probe = bundleSource("probe", PROBE);
});

const run = (args: unknown) => runBundle(probe, JSON.stringify(args)).result;

describe("runModule", () => {
  test("splits _ansible_* keys into the context and passes only the module's own arguments", () => {
    const r = run({
      mode: "change",
      x: 1,
      _ansible_check_mode: true,
      _ansible_diff: true,
      _ansible_no_log: false,
      _ansible_verbosity: 2,
      _ansible_version: "2.16.0",
      _ansible_module_name: "probe",
    });
    expect(r.changed).toBe(true);
    expect(r.seen).toEqual({ mode: "change", x: 1 });
    expect(r.ctx).toEqual({ checkMode: true, diff: true, noLog: false, verbosity: 2 });
  });

  test("accepts the ANSIBLE_MODULE_ARGS wrapper too", () => {
    const r = run({ ANSIBLE_MODULE_ARGS: { mode: "x", _ansible_check_mode: true } });
    expect(r.seen).toEqual({ mode: "x" });
    expect(r.ctx.checkMode).toBe(true);
  });

  test("validation failures list every violation as pointer: message", () => {
    const r = run({ mode: "invalid" });
    expect(r.failed).toBe(true);
    expect(r.changed).toBe(false);
    expect(r.msg).toContain("/mounts/0/tag: expected a lowercase tag");
    expect(r.msg).toContain("S3cret/Value");
    expect(r.msg).toContain('/: missing required property "mounts"');
  });

  test("with no_log, validation messages do not repeat the value", () => {
    const r = run({ mode: "invalid", _ansible_no_log: true });
    expect(r.failed).toBe(true);
    expect(r.msg).toContain("/mounts/0/tag: expected a lowercase tag");
    expect(r.msg).not.toContain("S3cret/Value");
  });

  test("an unexpected exception becomes failed/msg without a stack trace unless verbosity >= 3", () => {
    const r = run({ mode: "throw", secret: "hunter2" });
    expect(r).toMatchObject({ failed: true, changed: false });
    expect(r.msg).toContain("unexpected error: boom hunter2");
    expect(r.exception).toBeUndefined();
    const v = run({ mode: "throw", secret: "hunter2", _ansible_verbosity: 3 });
    expect(v.exception).toContain("Error: boom");
  });

  test("with no_log, argument values are masked in msg and warnings and no stack is shown", () => {
    const r = run({ mode: "throw", secret: "hunter2", _ansible_no_log: true, _ansible_verbosity: 4 });
    expect(r.msg).not.toContain("hunter2");
    expect(r.msg).toContain("********");
    expect(r.exception).toBeUndefined();
    const w = run({ mode: "warn", secret: "hunter2", _ansible_no_log: true });
    expect(w.warnings).toEqual(["careful with ********"]);
  });

  test("ModuleFailure keeps its message and extra result keys", () => {
    const r = run({ mode: "fail", secret: "abc" });
    expect(r).toMatchObject({ failed: true, changed: false, msg: "cannot do it for abc", partial: [1, 2] });
  });

  test("warnings are collected once each", () => {
    const r = run({ mode: "warn", secret: "x" });
    expect(r.warnings).toEqual(["careful with x"]);
  });

  test("a missing or broken arguments file still yields one JSON failure", () => {
    const none = runBundle(probe, undefined).result;
    expect(none.failed).toBe(true);
    expect(none.msg).toContain("no arguments file");
    const broken = runBundle(probe, "{not json").result;
    expect(broken.failed).toBe(true);
    expect(broken.msg).toContain("not JSON");
    const arr = runBundle(probe, "[1]").result;
    expect(arr.msg).toContain("JSON object");
  });

  test("the exit code is 1 on failure and 0 on success", () => {
    expect(runBundle(probe, JSON.stringify({ mode: "ok" })).status).toBe(0);
    expect(runBundle(probe, JSON.stringify({ mode: "throw" })).status).toBe(1);
  });
});

describe("schema validation through a generated-style validator", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "virtio-fs-runtime-ansible-"));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const env = { VIRTIO_FS_ROOT: tmp, VIRTIO_FS_BIN_DIR: tmp };

  test("bad values name the pointer and the expectation", () => {
    const r = runBundle(
      bundle("virtio_fs_mount"),
      JSON.stringify({
        mounts: [{ tag: "bad/tag", mount_point: "relative", mode: "999", state: "gone" }],
        fstab: path.join(tmp, "fstab"),
      }),
      env,
    ).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/^invalid arguments: /);
    expect(r.msg).toContain("/mounts/0/tag: expected");
    expect(r.msg).toContain("/mounts/0/mount_point: expected");
    expect(r.msg).toContain("/mounts/0/mode: expected");
    expect(r.msg).toContain('/mounts/0/state: expected one of "mounted", "present", "unmounted", "absent"');
  });

  test("an unknown argument is rejected, _ansible_* keys are not", () => {
    const r = runBundle(
      bundle("virtio_fs_mount"),
      JSON.stringify({ mounts: [], bogus: 1, _ansible_check_mode: true }),
      env,
    ).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('unknown property "bogus"');
    expect(r.msg).not.toContain("_ansible_check_mode");
    const unknownInShare = runBundle(
      bundle("virtio_fs_mount"),
      JSON.stringify({ mounts: [{ tag: "a", mount_point: "/a", colour: "red" }] }),
      env,
    ).result;
    expect(unknownInShare.msg).toContain('unknown property "colour"');
    expect(unknownInShare.msg).toContain("/mounts/0");
  });

  test("a __proto__ argument is an unknown key, not a prototype that smuggles arguments past the schema", () => {
    // JSON.parse keeps "__proto__" as an own key; copying it by assignment would set the prototype.
    const text =
      '{"mounts": [], "fstab": "' + path.join(tmp, "fstab") + '", "__proto__": {"perform_mounts": "x", "bogus": 1}}';
    const r = runBundle(bundle("virtio_fs_mount"), text, env).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('unknown property "__proto__"');
  });

  test("the module formats all errors at once, so a cause hides the checks it makes moot", () => {
    // An empty tag fails minLength, the tag pattern and the "does not start with -" pattern: the
    // length says it all, the patterns are moot (one-error-at-a-time formatting listed all three).
    const r = runBundle(
      bundle("virtio_fs_mount"),
      JSON.stringify({ mounts: [{ tag: "", mount_point: "/mnt/x" }], fstab: path.join(tmp, "fstab") }),
      env,
    ).result;
    expect(r).toMatchObject({
      failed: true,
      changed: false,
      msg: "invalid arguments: /mounts/0/tag: expected at least 1 character, got 0",
    });
  });

  test("a oneOf of required properties is one message, not one 'missing' per alternative", () => {
    const mounts = [{ tag: "a", mount_point: "/a" }];
    const none = runBundle(bundle("virtio_fs_domain"), JSON.stringify({ mounts }), env).result;
    expect(none.msg).toBe('invalid arguments: /: expected exactly one of the properties "name", "xml_path", got none');
    const both = runBundle(
      bundle("virtio_fs_domain"),
      JSON.stringify({ mounts, name: "vm", xml_path: "/x.xml" }),
      env,
    ).result;
    expect(both.msg).toBe(
      'invalid arguments: /: expected exactly one of the properties "name", "xml_path", got "name" and "xml_path"',
    );
  });

  test("with no_log, the same messages without the value: the schema's expectation stays", () => {
    const args = { mounts: [{ tag: "bad/tag", mount_point: "/a", queue_size: 4096 }], _ansible_no_log: true };
    const r = runBundle(bundle("virtio_fs_domain"), JSON.stringify({ ...args, name: "vm" }), env).result;
    expect(r.msg).toContain("/mounts/0/tag: expected a tag of 1 to 36 characters from A-Z a-z 0-9 . _ -");
    expect(r.msg).toContain("/mounts/0/queue_size: expected one of 16, 32, 64, 128, 256, 512, 1024");
    expect(r.msg).not.toMatch(/bad\/tag|4096|got/);
  });

  test("a missing required argument is named", () => {
    const r = runBundle(bundle("virtio_fs_mount"), JSON.stringify({}), env).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('missing required property "mounts"');
  });
});

describe("bundles", () => {
  const markers = [
    "from ansible" + ".module_utils",
    "import ansible" + ".module_utils",
    "#<<INCLUDE_ANSIBLE_" + "MODULE_COMMON>>",
    "<<INCLUDE_ANSIBLE_" + "MODULE_JSON_ARGS>>",
    "<<INCLUDE_ANSIBLE_" + "MODULE_COMPLEX_ARGS>>",
    "# POWERSHELL_" + "COMMON",
    "#Requires" + " -Module",
    "#Ansible" + "Requires",
  ];
  for (const name of ["virtio_fs_mount", "virtio_fs_info", "virtio_fs_domain"] as const) {
    test(`${name}: no Ansible module markers, CommonJS for Node 18, no stdout printing`, () => {
      const code = bundleRuntimeOnly(name);
      for (const m of markers) expect(code).not.toContain(m);
      expect(code).not.toContain("console.log(");
      expect(code).toContain('require("fs")');
      expect(code).not.toMatch(/^(import|export) /m);
    });
  }

  test("every shipped bundle is ASCII only, comments and header included", () => {
    const repo = path.resolve(__dirname, "../..");
    const shipped = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) =>
          e.isDirectory() ? shipped(path.join(dir, e.name)) : e.name.endsWith(".cjs") ? [path.join(dir, e.name)] : [],
        );
    const files = [...shipped(path.join(repo, "collection")), ...shipped(path.join(repo, "generated"))];
    expect(files.length).toBeGreaterThanOrEqual(3);
    const nonAscii = files.flatMap((f) => {
      const at = fs.readFileSync(f).findIndex((b) => b >= 0x80);
      return at < 0 ? [] : [`${path.relative(repo, f)} at byte ${at}`];
    });
    expect(nonAscii).toEqual([]);
  });
});
