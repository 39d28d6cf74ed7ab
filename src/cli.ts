import * as path from "path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { VfsError, diagnostic, formatDiagnostic, type Diagnostic } from "./errors/messages";
import { compile } from "./compile";
import { validateFile, type ValidatedConfig } from "./input/validate";
import { renderDomain, renderHeaderComment } from "./render/domain";
import { inventoryYaml } from "./input/inventory";

/** The repository root: where schemas/ lives; bin/vfsgen.js names it, so vfsgen runs from any directory. */
const ROOT = process.env.VFSGEN_ROOT ?? path.resolve(__dirname, "..");

class UsageError extends Error {}

function printDiagnostics(ds: Diagnostic[]): void {
  for (const d of ds) process.stderr.write(`${formatDiagnostic(d)}\n`);
}

function validateAll(files: string[]): ValidatedConfig[] {
  const ir = compile(ROOT);
  const results = files.map((f) => validateFile(f, ir));
  const problems = results.flatMap((r) => r.diagnostics);
  if (problems.length) throw new VfsError(problems);
  return results;
}

function clusterOnly(r: ValidatedConfig): ValidatedConfig {
  if (r.kind !== "cluster") throw new UsageError(`${r.file} is not a cluster configuration (clusters.<cluster>.<vm>)`);
  return r;
}

function domainType(v: string): "kvm" | "qemu" {
  if (v !== "kvm" && v !== "qemu") throw new InvalidArgumentError("expected kvm or qemu");
  return v;
}

/** Option help comes from the schema's descriptions, like every other piece of field documentation. */
function describeField(name: string): string {
  const ir = compile(ROOT);
  const field = [...ir.roleVariables, ...ir.domainTemplate.fields].find((f) => f.name === name);
  return field ? field.description : name;
}

export function program(): Command {
  const cli = new Command("vfsgen")
    .description("Compile the virtio-fs schema into an Ansible collection, a runtime playbook, a libvirt domain template and Node.js modules; validate and render virtio-fs configurations.")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  cli
    .command("generate")
    .description("Write generated/, collection/ and the README tables from schemas/virtio-fs-mount.schema.json.")
    .option("--check", "write nothing; exit 1 when any generated file differs from what the schema produces")
    .action(async (opts: { check?: boolean }) => {
      // The emitters (ts-morph, esbuild) load only for generate: validate and render stay fast.
      const { generate } = require("./pipeline") as typeof import("./pipeline");
      const result = await generate(ROOT, Boolean(opts.check));
      if (result.stale.length) {
        printDiagnostics(result.stale);
        process.stderr.write(`${result.stale.length} generated file(s) are stale: run npm run generate and commit the result\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(opts.check ? `up to date: ${result.files} generated files match the schema\n` : `wrote ${result.files} files\n`);
    });

  cli
    .command("validate")
    .description("Validate cluster configurations (clusters.<cluster>.<vm>.virtio_fs_mounts) and Ansible vars files (top-level virtio_fs_mounts); report every problem as FILE:LINE:COL: error[CODE] /pointer: message.")
    .argument("<file...>", "YAML or JSON files")
    .action((files: string[]) => {
      const results = validateAll(files);
      const vms = results.reduce((n, r) => n + (r.kind === "cluster" ? r.vms.length : 0), 0);
      const shares = results.reduce((n, r) => n + r.vms.reduce((m, vm) => m + vm.mounts.length, 0), 0);
      process.stdout.write(`valid: ${files.length} file(s), ${vms} VM(s), ${shares} share(s)\n`);
    });

  cli
    .command("render")
    .description("Print the complete libvirt domain XML of each VM of a cluster configuration.")
    .argument("<file>", "cluster configuration")
    .option("--vm <name>", "only this VM (its name or <cluster>-<name>)")
    .option("--domain-type <type>", describeField("vm_domain_type"), domainType, "kvm")
    .option("--libvirt-version <version>", describeField("virtio_fs_libvirt_version"), "9.0.0")
    .option("--image-dir <dir>", "directory of the VMs' qcow2 disks", "/var/lib/libvirt/images")
    .action((file: string, opts: { vm?: string; domainType: "kvm" | "qemu"; libvirtVersion: string; imageDir: string }) => {
      const [r] = validateAll([file]).map(clusterOnly);
      const ir = compile(ROOT);
      const vms = opts.vm ? r.vms.filter((v) => v.name === opts.vm || v.fullName === opts.vm) : r.vms;
      if (opts.vm && !vms.length) throw new VfsError([{ ...diagnostic("VFS061", "/clusters", { name: opts.vm, names: r.vms.map((v) => v.fullName).join(", ") }), file }]);
      for (const vm of vms) {
        process.stdout.write(renderHeaderComment(ir));
        process.stdout.write(renderDomain(ir, vm, { domainType: opts.domainType, libvirtVersion: opts.libvirtVersion, imageDir: opts.imageDir }));
      }
    });

  cli
    .command("inventory")
    .description("Print an Ansible YAML inventory for a cluster configuration: a group per cluster, a host per VM (ansible_host from ip_address) with its virtio_fs_mounts.")
    .argument("<file>", "cluster configuration")
    .action((file: string) => {
      const [r] = validateAll([file]).map(clusterOnly);
      process.stdout.write(inventoryYaml(r.vms));
    });
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      process.stderr.write(`vfsgen: ${e.message}\n`);
      return 2;
    }
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


