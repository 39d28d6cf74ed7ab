import * as path from "path";
import { convertArguments, type ArgumentTypes } from "../../src/runtime/argument-conversion";
import { makeWorld, type World } from "./harness";

const TYPES: ArgumentTypes = {
  flag: { type: "bool", hasDefault: true },
  count: { type: "int" },
  ratio: { type: "float" },
  name: { type: "str" },
  tags: { type: "list", elements: "str" },
  items: {
    type: "list",
    elements: "dict",
    options: { on: { type: "bool" }, size: { type: "int" }, label: { type: "str" } },
  },
};

describe("arguments are converted as Ansible converts them for Python modules", () => {
  test.each([
    ["yes", true],
    ["No", false],
    ["TRUE", true],
    ["false", false],
    ["on", true],
    ["off", false],
    ["1", true],
    ["0", false],
    ["y", true],
    ["N", false],
    ["t", true],
    ["f", false],
    [" true ", true],
    [1, true],
    [0, false],
    [true, true],
    [false, false],
  ])("bool %p -> %p", (given, want) => {
    expect(convertArguments({ flag: given }, TYPES, false)).toEqual({ args: { flag: want }, errors: [] });
  });

  test("int: numeric strings and integral floats become integers; others are refused like Ansible", () => {
    expect(convertArguments({ count: "8" }, TYPES, false).args.count).toBe(8);
    expect(convertArguments({ count: " -12 " }, TYPES, false).args.count).toBe(-12);
    expect(convertArguments({ count: "8.0" }, TYPES, false).args.count).toBe(8);
    expect(convertArguments({ count: "8.5" }, TYPES, false).errors).toEqual([
      `/count: argument 'count' is of type str and we were unable to convert to int: "'8.5'" cannot be converted to an int`,
    ]);
    expect(convertArguments({ count: "abc" }, TYPES, false).errors[0]).toContain(
      `"'abc'" cannot be converted to an int`,
    );
    expect(convertArguments({ count: 2.5 }, TYPES, false).errors[0]).toContain("is of type float");
  });

  test("bool: anything else is refused with the list of valid booleans", () => {
    const { errors } = convertArguments({ flag: "maybe" }, TYPES, false);
    expect(errors[0]).toMatch(
      /^\/flag: argument 'flag' is of type str and we were unable to convert to bool: The value 'maybe' is not a valid boolean\. Valid booleans include: 'y'/,
    );
    expect(convertArguments({ flag: 2 }, TYPES, false).errors[0]).toContain("The value 2 is not a valid boolean");
  });

  test("str: numbers and booleans become strings (Python's spelling), null means not given", () => {
    expect(convertArguments({ name: 8, ratio: "0.5" }, TYPES, false).args).toEqual({ name: "8", ratio: 0.5 });
    expect(convertArguments({ name: true }, TYPES, false).args.name).toBe("True");
    expect(convertArguments({ name: null }, TYPES, false).args).toEqual({});
  });

  test("lists: comma-separated strings split, elements and sub-options converted, errors located", () => {
    expect(convertArguments({ tags: "a,b" }, TYPES, false).args.tags).toEqual(["a", "b"]);
    expect(convertArguments({ tags: [1, true] }, TYPES, false).args.tags).toEqual(["1", "True"]);
    const r = convertArguments(
      { items: [{ on: "no", size: "3", label: 7, extra: "kept" }, { on: "perhaps" }] },
      TYPES,
      false,
    );
    expect(r.args.items).toEqual([{ on: false, size: 3, label: "7", extra: "kept" }, { on: "perhaps" }]);
    expect(r.errors).toEqual([
      expect.stringMatching(
        /^\/items\/1\/on: argument 'on' is of type str found in 'items'\. and we were unable to convert to bool/,
      ),
    ]);
  });

  test("with no_log the messages do not repeat the value", () => {
    const r = convertArguments({ flag: "s3cr3t", count: "s3cr3t" }, TYPES, true);
    expect(r.errors).toHaveLength(2);
    expect(r.errors.join(" ")).not.toContain("s3cr3t");
  });
});

describe("the bundled modules convert before validating (types from the schema)", () => {
  let w: World;
  afterEach(() => w?.cleanup());

  test('virtio_fs_mount: perform_mounts "false", persist "yes", readonly "no" behave as booleans', () => {
    w = makeWorld();
    const mp = path.join(w.mnt, "data");
    const r = w.run("virtio_fs_mount", {
      mounts: [{ tag: "data", mount_point: mp, readonly: "no" }],
      fstab: w.fstab,
      perform_mounts: "false",
      persist: "yes",
      load_module: "0",
    }).result;
    expect(r.failed).toBeFalsy();
    expect(r.mounts[0].state).toBe("present");
    expect(w.calls().filter((c) => c[0] === "mount")).toEqual([]);
    expect(w.readFstab()).toContain(`data ${mp} virtiofs rw,`);
  });

  test("virtio_fs_mount: a value Ansible cannot convert fails with the pointer and Ansible's words", () => {
    w = makeWorld();
    const r = w.run("virtio_fs_mount", { mounts: [], fstab: w.fstab, perform_mounts: "sometimes" }).result;
    expect(r.failed).toBe(true);
    expect(r.msg).toContain(
      "invalid arguments: /perform_mounts: argument 'perform_mounts' is of type str and we were unable to convert to bool: The value 'sometimes' is not a valid boolean",
    );
  });
});
