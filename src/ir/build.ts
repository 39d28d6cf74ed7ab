import type { JsonSchema, LoadedSchema } from "../schema/load";
import { VfsError, diagnostic, pointerJoin } from "../errors/messages";
import type { FieldIr, FieldType, Ir, ModuleIr, ObjectIr, TargetPlatform } from "./types";

/** Phase 2: turn the schema into the IR every emitter reads. */
export function buildIr(loaded: LoadedSchema): Ir {
  const { schema, collection } = loaded;
  const defs = (schema.$defs ?? {}) as Record<string, JsonSchema>;
  const resolver = new Resolver(schema, loaded.relativePath);
  const roleVariables = resolver.objectFields(schema, "");
  const def = (name: string) => {
    if (!defs[name]) resolver.fail(`/$defs/${name}`, `missing definition "${name}"`);
    return resolver.object(name, defs[name], `/$defs/${name}`);
  };
  const modules: ModuleIr[] = Object.keys(defs)
    .filter((k) => k.startsWith("module_"))
    .sort()
    .map((defName) => {
      const name = defName.slice("module_".length);
      const meta = (defs[defName]["x-ansible-module"] ?? {}) as Record<string, unknown>;
      return {
        name,
        defName,
        args: def(defName),
        // a module collection.json does not place is refused by checkIr; "guest" only keeps the IR whole
        side: collection.modules[name]?.side ?? "guest",
        doc: {
          shortDescription: String(meta.short_description ?? ""),
          description: (meta.description as string[]) ?? [],
          examples: String(meta.examples ?? ""),
          returns: (meta.return as Record<string, unknown>) ?? {},
        },
      };
    });
  resolver.throwIfFailed();
  return {
    schemaPath: loaded.relativePath,
    schemaId: String(schema.$id ?? ""),
    schema,
    title: String(schema.title ?? ""),
    description: String(schema.description ?? ""),
    collection: {
      namespace: collection.namespace,
      name: collection.name,
      version: collection.version,
      description: collection.description,
      authors: collection.authors,
      license: collection.license,
      copyright: collection.copyright,
      requiresAnsible: collection.requires_ansible,
      testedAnsibleCore: collection.tested_ansible_core,
      repository: collection.repository,
      galaxyTags: collection.galaxy_tags,
      platforms: galaxyPlatforms(collection.target_platforms),
      nodeMinVersion: collection.node_min_version,
      targetPlatforms: collection.target_platforms,
      executionEnvironment: {
        baseImage: collection.execution_environment.base_image,
        pythonInterpreter: {
          packageSystem: collection.execution_environment.python_interpreter.package_system,
          pythonPath: collection.execution_environment.python_interpreter.python_path,
        },
        ansibleRunner: collection.execution_environment.ansible_runner,
      },
    },
    roleVariables,
    share: def("share"),
    hostDomain: def("host_domain"),
    clusterVm: def("cluster_vm"),
    domainTemplate: def("domain_template"),
    renderOptions: def("render_options"),
    modules,
    moduleSides: Object.fromEntries(Object.entries(collection.modules).map(([k, v]) => [k, v.side])),
    roles: collection.roles.map((r) => ({
      name: r.name,
      ...(r.plain_name ? { plainName: r.plain_name } : {}),
      side: r.side,
      shortDescription: r.short_description,
      description: r.description,
      variables: roleVariables.filter((v) => v.roles.includes(r.name)),
    })),
  };
}

/** galaxy_info.platforms from the booted target platforms, one entry per name, in their order. */
function galaxyPlatforms(targets: TargetPlatform[]): { name: string; versions: string[] }[] {
  const out: { name: string; versions: string[] }[] = [];
  for (const { booted } of targets) {
    if (!booted) continue;
    const entry = out.find((p) => p.name === booted.name);
    if (entry) entry.versions.push(booted.version);
    else out.push({ name: booted.name, versions: [booted.version] });
  }
  return out;
}

class Resolver {
  private problems: ReturnType<typeof diagnostic>[] = [];
  constructor(
    private readonly root: JsonSchema,
    private readonly file: string,
  ) {}

  fail(pointer: string, detail: string): void {
    this.problems.push({ ...diagnostic("VFS040", pointer, { detail }), file: this.file });
  }

  throwIfFailed(): void {
    if (this.problems.length) throw new VfsError(this.problems);
  }

  /** Follows local $refs, merging the referring schema's own keywords over the target's. */
  resolve(node: JsonSchema, pointer: string): JsonSchema {
    let current = node;
    const seen = new Set<string>();
    while (typeof current.$ref === "string") {
      const ref = current.$ref;
      if (!ref.startsWith("#/") || seen.has(ref)) {
        this.fail(pointer, `unsupported or circular $ref "${ref}"`);
        return current;
      }
      seen.add(ref);
      let target: unknown = this.root;
      for (const seg of ref.slice(2).split("/"))
        target = (target as JsonSchema | undefined)?.[seg.replace(/~1/g, "/").replace(/~0/g, "~")];
      if (!target || typeof target !== "object") {
        this.fail(pointer, `$ref "${ref}" points nowhere`);
        return current;
      }
      const { $ref: _ignored, ...own } = current;
      current = { ...(target as JsonSchema), ...own };
    }
    return current;
  }

  object(name: string, node: JsonSchema, pointer: string): ObjectIr {
    return {
      name,
      description: String(node.description ?? ""),
      fields: this.objectFields(node, pointer),
      additionalProperties: node.additionalProperties !== false,
    };
  }

  objectFields(node: JsonSchema, pointer: string): FieldIr[] {
    const props = (node.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((node.required as string[] | undefined) ?? []);
    const inheritedRoles = (node["x-roles"] as string[] | undefined) ?? [];
    return Object.entries(props).map(([name, raw]) => {
      const fieldPointer = pointerJoin(pointer, "properties", name);
      const p = this.resolve(raw, fieldPointer);
      const type = this.typeOf(p, fieldPointer);
      const field: FieldIr = {
        name,
        schemaPointer: fieldPointer,
        description: String(p.description ?? ""),
        type,
        required: required.has(name),
        roles: (raw["x-roles"] as string[] | undefined) ?? (pointer === "" ? inheritedRoles : []),
      };
      if (p["x-fallback"] !== undefined) field.fallback = p["x-fallback"];
      if (p["x-platform-values"] !== undefined)
        field.platformValues = p["x-platform-values"] as Record<string, unknown>;
      if (typeof p["x-default-from"] === "string") field.defaultFrom = p["x-default-from"];
      for (const k of ["default", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum"] as const) {
        if (p[k] !== undefined) (field as unknown as Record<string, unknown>)[k] = p[k];
      }
      if (type === "array" && p.items) {
        const itemsPointer = pointerJoin(fieldPointer, "items");
        const items = this.resolve(p.items as JsonSchema, itemsPointer);
        field.itemType = this.typeOf(items, itemsPointer);
        if (field.itemType === "object") {
          const ref = String((p.items as JsonSchema).$ref ?? "");
          field.itemObject = this.object(ref.split("/").pop() || name, items, itemsPointer);
        }
      }
      return field;
    });
  }

  typeOf(node: JsonSchema, pointer: string): FieldType {
    const t = node.type;
    if (typeof t === "string") return t as FieldType;
    if (Array.isArray(node.enum) && node.enum.length) return typeof node.enum[0] === "number" ? "integer" : "string";
    this.fail(pointer, "property has no type");
    return "string";
  }
}
