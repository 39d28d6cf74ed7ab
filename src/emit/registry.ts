import type { Emitter } from "./outputs";
import { emitLibvirt } from "./libvirt";
import { emitMountRole } from "./role/mount";
import { emitHostRole } from "./role/host";
import { emitPlaybooks } from "./playbook";
import { emitCollectionMeta } from "./collection";
import { emitCollectionReadme } from "./collection/readme";
import { emitChangelog } from "./collection/changelog";
import { emitLicense } from "./collection/license";
import { emitSanityIgnores } from "./collection/sanity-ignores";
import { emitExecutionEnvironment } from "./collection/execution-environment";
import { emitReadmeTables } from "./docs";
import { emitModules } from "./modules";
import { emitPublishedSchemas } from "./schemas";
import { emitInventoryPlugin } from "./plugins/inventory";

/** Every artifact the generator produces; a new artifact is one emitter added here. */
export const EMITTERS: readonly Emitter[] = [
  { name: "libvirt domain template", emit: emitLibvirt },
  { name: "guest role", emit: emitMountRole },
  { name: "host role", emit: emitHostRole },
  { name: "playbooks", emit: emitPlaybooks },
  { name: "collection metadata", emit: emitCollectionMeta },
  { name: "collection README", emit: emitCollectionReadme },
  { name: "changelog", emit: emitChangelog },
  { name: "licence", emit: emitLicense },
  { name: "ansible-test sanity ignores", emit: emitSanityIgnores },
  { name: "execution environment", emit: emitExecutionEnvironment },
  { name: "README tables", emit: emitReadmeTables },
  { name: "modules", emit: (ir, { root }) => emitModules(ir, root) },
  { name: "published schemas", emit: emitPublishedSchemas },
  { name: "inventory plugin", emit: emitInventoryPlugin },
];
