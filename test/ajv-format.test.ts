import type { ErrorObject } from "ajv";
import { formatAjvErrors } from "../src/errors/ajv-format";
import { Messages } from "../src/errors/messages";

const err = (e: Partial<ErrorObject> & Pick<ErrorObject, "keyword">): ErrorObject => ({
  instancePath: "",
  schemaPath: `#/${e.keyword}`,
  params: {},
  ...e,
});

describe("formatAjvErrors: one path from ajv errors to catalogue messages", () => {
  test("VFS010-VFS014 are text templates with named parameters, not a pre-formatted detail", () => {
    for (const code of ["VFS010", "VFS011", "VFS012", "VFS013", "VFS014"] as const)
      expect(Messages[code]).not.toContain("{detail}");
    const [v] = formatAjvErrors([
      err({
        keyword: "pattern",
        instancePath: "/tag",
        params: { pattern: "^a$" },
        data: "b",
        parentSchema: { "x-expected": "an a" },
      }),
    ]);
    expect(v).toMatchObject({
      code: "VFS014",
      params: { expected: "an a", got: '"b"' },
      message: 'expected an a, got "b"',
    });
  });

  test("withValues: false leaves out the value, keeps the expectation", () => {
    const errors = [
      err({ keyword: "enum", instancePath: "/state", params: { allowedValues: ["a", "b"] }, data: "s3cret" }),
      err({
        keyword: "type",
        instancePath: "/n",
        params: { type: "integer" },
        data: "s3cret",
        parentSchema: { type: "integer", minimum: 1, maximum: 9 },
      }),
    ];
    expect(formatAjvErrors(errors, { withValues: false }).map((v) => v.message)).toEqual([
      'expected one of "a", "b"',
      "expected an integer from 1 to 9",
    ]);
    expect(formatAjvErrors(errors).map((v) => v.message)).toEqual([
      'expected one of "a", "b", got "s3cret"',
      'expected an integer from 1 to 9, got "s3cret"',
    ]);
  });

  test("an unknown property is named as a quoted string: a hostile key cannot break the message's line", () => {
    const [v] = formatAjvErrors([
      err({ keyword: "additionalProperties", instancePath: "/m", params: { additionalProperty: 'a\nb"c' } }),
    ]);
    expect(v.message).toBe('unknown property "a\\nb\\"c"');
    expect(v.pointer).toBe('/m/a\nb"c');
  });

  test("a oneOf that no alternative matched is left to its alternatives' own errors", () => {
    const errors = [
      err({
        keyword: "type",
        instancePath: "/x",
        schemaPath: "#/oneOf/0/type",
        params: { type: "string" },
        data: true,
      }),
      err({
        keyword: "type",
        instancePath: "/x",
        schemaPath: "#/oneOf/1/type",
        params: { type: "integer" },
        data: true,
      }),
      err({
        keyword: "oneOf",
        instancePath: "/x",
        schemaPath: "#/oneOf",
        params: { passingSchemas: null },
        data: true,
        parentSchema: { oneOf: [{ type: "string" }, { type: "integer" }] },
      }),
    ];
    expect(formatAjvErrors(errors).map((v) => v.message)).toEqual([
      "expected string, got boolean",
      "expected integer, got boolean",
    ]);
  });

  test("a keyword the catalogue has no words for still gets a message of its own code", () => {
    const [v] = formatAjvErrors([
      err({
        keyword: "maxItems",
        instancePath: "/l",
        params: { limit: 2 },
        message: "must NOT have more than 2 items",
      }),
    ]);
    expect(v).toMatchObject({
      code: "VFS018",
      message: 'the schema\'s "maxItems" rule refuses this value: must NOT have more than 2 items',
    });
  });
});
