import * as fs from "fs";
import * as path from "path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { VfsError, diagnostic, formatDiagnostic, message, type Diagnostic } from "./errors/messages";
import { firstNonPrintable } from "./input/text-rules";
import { compile } from "./compile";
import { validateFile, type ValidatedConfig } from "./input/validate";
import { guestOnlyReadonlyTags, renderDomain, renderHeaderComment } from "./render/domain";
import { inventoryYaml } from "./input/inventory";
import { REPORT_FORMATS, jsonReport, sarifReport, type ReportFormat } from "./errors/report-formats";

/**
 * The package root: where schemas/ and package.json live. A checkout's bin/vfsgen.js names it (its
 * bundle sits in .cache/cli); an installed package's bundle sits in dist/, one level below it.
 */
const ROOT = process.env.VFSGEN_ROOT ?? path.resolve(__dirname, "..");

/** vfsgen's version: package.json's, read when asked, so it is written in one place. */
function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
}

/** A command line the CLI cannot act on: printed as `vfsgen: error[VFS060] usage: ...`, exit 2. */
class UsageError extends Error {}

function printDiagnostics(ds: Diagnostic[]): void {
  for (const d of ds) process.stderr.write(`${formatDiagnostic(d)}\n`);
}

function validateEach(files: string[]): ValidatedConfig[] {
  const ir = compile(ROOT);
  return files.map((f) => validateFile(f, ir));
}

function validateAll(files: string[]): ValidatedConfig[] {
  const results = validateEach(files);
  const problems = results.flatMap((r) => r.diagnostics);
  if (problems.length) throw new VfsError(problems);
  return results;
}

function shareCount(r: ValidatedConfig): number {
  return r.vms.reduce((m, vm) => m + vm.mounts.length, 0);
}

/** `validate --format`: one of REPORT_FORMATS, refused as a usage error otherwise. */
function reportFormat(v: string): ReportFormat {
  if (!(REPORT_FORMATS as readonly string[]).includes(v))
    throw new InvalidArgumentError(`expected one of ${REPORT_FORMATS.join(", ")}`);
  return v as ReportFormat;
}

/** The json and sarif reports: every diagnostic on stdout, exit 1 when there is any. */
function writeReport(format: Exclude<ReportFormat, "text">, results: ValidatedConfig[]): number {
  const diagnostics = results.flatMap((r) => r.diagnostics);
  if (format === "json") {
    const files = results.map((r) => ({
      file: r.file,
      kind: r.kind,
      vms: r.kind === "cluster" ? r.vms.length : 0,
      shares: shareCount(r),
      valid: r.diagnostics.length === 0,
    }));
    process.stdout.write(jsonReport(files, diagnostics));
  } else {
    const tool = { name: "vfsgen", version: packageVersion(), informationUri: compile(ROOT).collection.repository };
    process.stdout.write(sarifReport(tool, diagnostics));
  }
  return diagnostics.length ? 1 : 0;
}

function clusterOnly(r: ValidatedConfig): ValidatedConfig {
  if (r.kind !== "cluster") throw new UsageError(`${r.file} is not a cluster configuration (clusters.<cluster>.<vm>)`);
  return r;
}

/** A role variable, domain template field or render option: option help, defaults and checks come from the schema. */
function field(name: string) {
  const ir = compile(ROOT);
  const f = [...ir.roleVariables, ...ir.domainTemplate.fields, ...ir.renderOptions.fields].find((x) => x.name === name);
  if (!f) throw new Error(`the schema has no field ${name}`);
  return f;
}

/** The schema's own words for what a pattern accepts (x-expected), found by the field's schema pointer. */
function expectedText(pointer: string): string | undefined {
  let node: unknown = compile(ROOT).schema;
  for (const seg of pointer.split("/").slice(1))
    node = (node as Record<string, unknown> | undefined)?.[seg.replace(/~1/g, "/").replace(/~0/g, "~")];
  const n = node as { $ref?: string; "x-expected"?: string } | undefined;
  if (n?.["x-expected"]) return n["x-expected"];
  return n?.$ref?.startsWith("#/") ? expectedText(n.$ref.slice(1)) : undefined;
}

/** An option argument checked against its schema field (enum, pattern), refused in the schema's words. */
function schemaArgument(name: string): (v: string) => string {
  return (v: string) => {
    const f = field(name);
    const bad = firstNonPrintable(v);
    if (f.enum && !f.enum.includes(v)) throw new InvalidArgumentError(`expected one of ${f.enum.join(", ")}`);
    if (bad || (f.pattern && !new RegExp(f.pattern, "u").test(v))) {
      throw new InvalidArgumentError(`expected ${expectedText(f.schemaPointer) ?? `a value matching ${f.pattern}`}`);
    }
    return v;
  };
}

/** The image directory and the wrapper path land in the domain XML: absolute paths as the schema defines one. */
function absolutePath(v: string): string {
  const def = (compile(ROOT).schema.$defs as Record<string, { pattern: string; "x-expected": string }>).absolute_path;
  if (firstNonPrintable(v) || !new RegExp(def.pattern, "u").test(v))
    throw new InvalidArgumentError(`expected ${def["x-expected"]}`);
  return v.length > 1 ? v.replace(/\/+$/, "") : v;
}

interface RenderCliOptions {
  vm?: string;
  domainType: string;
  libvirtVersion: string;
  readonlyMechanism: string;
  readonlyWrapperPath: string;
  imageDir: string;
}

export function program(): Command {
  const cli = new Command("vfsgen")
    .description(
      "Compile the virtio-fs schema into an Ansible collection, a runtime playbook, a libvirt domain template and Node.js modules; validate and render virtio-fs configurations.",
    )
    .version(packageVersion(), "-V, --version", "print the version of vfsgen and exit")
    .exitOverride()
    .allowExcessArguments(false)
    // commander's own error lines are replaced by main()'s VFS060 line; help still goes to stderr/stdout
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => undefined });

  cli
    .command("generate")
    .description("Write generated/, collection/ and the README tables from schemas/virtio-fs-mount.schema.json.")
    .option("--check", "write nothing; exit 1 when any generated file differs from what the schema produces")
    .action(async (opts: { check?: boolean }) => {
      // An installed package has no sources to compile the collection from, nor a checkout to write into.
      if (!fs.existsSync(path.join(ROOT, "src")))
        throw new UsageError(
          "generate runs in a checkout of the generator (it writes collection/ and generated/ there); this installation only validates, renders and writes inventories",
        );
      // The emitters (ts-morph, esbuild) load only for generate: validate and render stay fast.
      const { generate } = require("./pipeline") as typeof import("./pipeline");
      const result = await generate(ROOT, Boolean(opts.check));
      if (result.stale.length) {
        printDiagnostics(result.stale);
        process.stderr.write(
          `${result.stale.length} generated file(s) are stale: run npm run generate and commit the result\n`,
        );
        process.exitCode = 1;
        return;
      }
      process.stdout.write(
        opts.check ? `up to date: ${result.files} generated files match the schema\n` : `wrote ${result.files} files\n`,
      );
    });

  cli
    .command("validate")
    .description(
      "Validate cluster configurations (clusters.<cluster>.<vm>.virtio_fs_mounts) and Ansible vars files (top-level virtio_fs_mounts); report every problem as FILE:LINE:COL: error[CODE] /pointer: message.",
    )
    .argument("<file...>", "YAML or JSON files")
    .option(
      "--format <format>",
      `how to report: ${REPORT_FORMATS.join(", ")} (json and sarif write one document to stdout, diagnostics included)`,
      reportFormat,
      "text" as ReportFormat,
    )
    .action((files: string[], opts: { format: ReportFormat }) => {
      if (opts.format !== "text") {
        process.exitCode = writeReport(opts.format, validateEach(files));
        return;
      }
      const results = validateAll(files);
      const vms = results.reduce((n, r) => n + (r.kind === "cluster" ? r.vms.length : 0), 0);
      const shares = results.reduce((n, r) => n + shareCount(r), 0);
      process.stdout.write(`valid: ${files.length} file(s), ${vms} VM(s), ${shares} share(s)\n`);
    });

  cli
    .command("render")
    .description("Print the complete libvirt domain XML of each VM of a cluster configuration.")
    .argument("<file>", "cluster configuration")
    .option("--vm <name>", "only this VM (its name or <cluster>-<name>)")
    .option(
      "--domain-type <type>",
      field("vm_domain_type").description,
      schemaArgument("vm_domain_type"),
      field("vm_domain_type").default as string,
    )
    .option(
      "--libvirt-version <version>",
      field("virtio_fs_libvirt_version").description,
      schemaArgument("virtio_fs_libvirt_version"),
      field("virtio_fs_libvirt_version").default as string,
    )
    .option(
      "--readonly-mechanism <mechanism>",
      field("virtio_fs_readonly_mechanism").description,
      schemaArgument("virtio_fs_readonly_mechanism"),
      field("virtio_fs_readonly_mechanism").default as string,
    )
    .option(
      "--readonly-wrapper-path <path>",
      field("virtio_fs_readonly_wrapper_path").description,
      absolutePath,
      field("virtio_fs_readonly_wrapper_path").default as string,
    )
    .option("--image-dir <dir>", field("image_dir").description, absolutePath, field("image_dir").default as string)
    .action((file: string, opts: RenderCliOptions) => {
      const [r] = validateAll([file]).map(clusterOnly);
      const ir = compile(ROOT);
      const vms = opts.vm ? r.vms.filter((v) => v.name === opts.vm || v.fullName === opts.vm) : r.vms;
      if (opts.vm && !vms.length)
        throw new VfsError([
          {
            ...diagnostic("VFS061", "/clusters", { name: opts.vm, names: r.vms.map((v) => v.fullName).join(", ") }),
            file,
          },
        ]);
      for (const vm of vms) {
        process.stdout.write(renderHeaderComment(ir));
        process.stdout.write(
          renderDomain(ir, vm, {
            domainType: opts.domainType,
            libvirtVersion: opts.libvirtVersion,
            readonlyMechanism: opts.readonlyMechanism,
            readonlyWrapperPath: opts.readonlyWrapperPath,
            imageDir: opts.imageDir,
          }),
        );
        const guestOnly = guestOnlyReadonlyTags(ir, vm, opts.readonlyMechanism);
        if (guestOnly.length > 0)
          process.stderr.write(
            `vfsgen: warning: ${vm.fullName}: read-only shares ${guestOnly.join(", ")} are read-only in the guest only (--readonly-mechanism guest); guest root can remount them rw and write to the host directory\n`,
          );
      }
    });

  cli
    .command("inventory")
    .description(
      "Print an Ansible YAML inventory for a cluster configuration: a group per cluster, a host per VM (ansible_host from ip_address) with its virtio_fs_mounts, and the hypervisors group, a host per hypervisor with virtio_fs_host_domains for the host role.",
    )
    .argument("<file>", "cluster configuration")
    .action((file: string) => {
      const [r] = validateAll([file]).map(clusterOnly);
      process.stdout.write(inventoryYaml(compile(ROOT), r.vms));
    });
  return cli;
}

function usage(detail: string): number {
  process.stderr.write(`vfsgen: error[VFS060] ${message("VFS060", { detail })}\n`);
  return 2;
}

/** `vfsgen render x | head`: a reader that stops early is not an error, and never a stack trace. */
let pipeGuarded = false;
function quietOnClosedPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    process.stderr.write(`vfsgen: cannot write output: ${e.message}\n`);
    process.exit(1);
  });
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  try {
    await program().parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0 || e.code === "commander.help" || e.code === "commander.helpDisplayed")
        return e.exitCode === 0 ? 0 : 2;
      const command = program().commands.find((c) => c.name() === argv[0]);
      const detail = e.message.replace(/^error: /, "").replace(/\.$/, "");
      return usage(`${detail} (vfsgen ${command ? `${command.name()} ` : ""}--help shows the usage)`);
    }
    if (e instanceof UsageError) return usage(e.message);
    if (e instanceof VfsError) {
      printDiagnostics(e.diagnostics);
      return e.exitCode;
    }
    process.stderr.write(`vfsgen: internal error: ${(e as Error).message}\n`);
    if (process.env.VFSGEN_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 70;
  }
}

if (require.main === module || process.env.VFSGEN_MAIN === "1") {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
