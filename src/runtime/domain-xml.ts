/**
 * libvirt domain XML editing with @xmldom/xmldom (no regular expressions on XML): the virtio-fs
 * <filesystem> devices and the shared <memoryBacking>. Nodes that are not edited keep their order,
 * whitespace and comments; the serialiser writes libvirt's style (single-quoted attributes,
 * <empty/> elements) so an unchanged libvirt XML serialises back byte for byte.
 * What cannot be written back well-formed is refused when read (parseXml), and refusals the operator
 * can act on are DomainXmlError.
 */
import { DOMParser } from "@xmldom/xmldom";
import type { Share } from "./generated/types";
import { filled } from "./schema-defaults";
import { xmlCharProblem } from "./xml-chars";

/* Minimal structural view of the DOM nodes used here (xmldom's own typings vary between versions). */
export interface XNode {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  parentNode: XNode | null;
  firstChild: XNode | null;
  nextSibling: XNode | null;
  previousSibling: XNode | null;
  childNodes: ArrayLike<XNode>;
  ownerDocument: XDocument | null;
  insertBefore(node: XNode, ref: XNode | null): XNode;
  appendChild(node: XNode): XNode;
  removeChild(node: XNode): XNode;
}
export interface XAttr {
  name: string;
  value: string;
}
export interface XElement extends XNode {
  tagName: string;
  attributes: ArrayLike<XAttr>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  hasAttribute(name: string): boolean;
  removeAttribute(name: string): void;
}
export interface XDocument extends XNode {
  documentElement: XElement | null;
  createElement(name: string): XElement;
  createTextNode(text: string): XNode;
}

const ELEMENT = 1,
  TEXT = 3,
  CDATA = 4,
  PI = 7,
  COMMENT = 8,
  DOCUMENT = 9,
  DOCTYPE = 10;

/** A domain XML the module refuses to read or to change, with the reason an operator can act on. */
export class DomainXmlError extends Error {}

const BOM = "\uFEFF";

/** True when text starts with a UTF-8 byte order mark (decoded: U+FEFF), which parseXml skips. */
export function hasBom(text: string): boolean {
  return text.startsWith(BOM);
}

/**
 * Whether the prolog (before the root element) holds a document type declaration. A DOCTYPE can
 * only stand there, and comments and processing instructions are the only other things allowed
 * there, so skipping those finds it without parsing the document.
 */
function prologHasDoctype(text: string): boolean {
  let i = 0;
  for (;;) {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
    const [open, close] = text.startsWith("<?", i)
      ? ["<?", "?>"]
      : text.startsWith("<!--", i)
        ? ["<!--", "-->"]
        : ["", ""];
    if (open === "") return text.startsWith("<!DOCTYPE", i);
    const end = text.indexOf(close, i + open.length);
    if (end < 0) return false; // unterminated: the parser reports it
    i = end + close.length;
  }
}

const MAX_PARSE_PROBLEMS = 3;

/**
 * Parses a libvirt domain XML. A leading byte order mark is skipped. A DOCTYPE is refused: libvirt
 * never writes one, and its internal subset could declare entities (an expansion bomb, an external
 * file): nothing is ever expanded, and an entity other than the five XML predefines is refused.
 * Characters XML 1.0 cannot carry are refused even when written as character references, so what
 * was read can always be written back well-formed.
 */
export function parseXml(text: string): XDocument {
  const body = hasBom(text) ? text.slice(BOM.length) : text;
  if (prologHasDoctype(body)) {
    throw new DomainXmlError(
      "the XML has a <!DOCTYPE> declaration, which libvirt domain XML never has; " +
        "it is refused so that no entity it declares is expanded (remove the DOCTYPE, then run again)",
    );
  }
  const problems: string[] = [];
  let doc: XDocument;
  try {
    doc = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== "warning") problems.push(describeParseProblem(message));
      },
    }).parseFromString(body, "text/xml") as unknown as XDocument;
  } catch (e) {
    throw new DomainXmlError(`not well-formed XML: ${problems[0] ?? describeParseProblem((e as Error).message)}`);
  }
  if (problems.length > 0) {
    const more = problems.length > MAX_PARSE_PROBLEMS ? `; and ${problems.length - MAX_PARSE_PROBLEMS} more` : "";
    throw new DomainXmlError(`not well-formed XML: ${problems.slice(0, MAX_PARSE_PROBLEMS).join("; ")}${more}`);
  }
  if (!doc.documentElement) throw new DomainXmlError("not well-formed XML: no root element");
  const bad = firstUnwritable(doc);
  if (bad) throw new DomainXmlError(`the XML cannot be written back well-formed: ${bad}`);
  return doc;
}

function describeParseProblem(message: string): string {
  const first = message.trim().split("\n")[0];
  const entity = /^entity not found:\s*(&[^;]*;?)/.exec(first);
  if (entity)
    return `undefined entity ${entity[1]} (only &lt; &gt; &amp; &apos; &quot; and character references are allowed)`;
  return first;
}

/** The first node or attribute holding a character XML 1.0 cannot carry, described; or undefined. */
function firstUnwritable(n: XNode): string | undefined {
  const where = (el: XNode | null) =>
    el && el.nodeType === ELEMENT ? `<${(el as XElement).tagName}>` : "the document";
  switch (n.nodeType) {
    case ELEMENT: {
      const el = n as XElement;
      const tagProblem = xmlCharProblem(el.tagName);
      if (tagProblem) return `an element name ${tagProblem}`;
      for (let i = 0; i < el.attributes.length; i++) {
        const a = el.attributes[i];
        const p = xmlCharProblem(a.name) ?? xmlCharProblem(a.value);
        if (p) return `attribute ${JSON.stringify(a.name)} of <${el.tagName}> ${p}`;
      }
      break;
    }
    case TEXT:
    case CDATA:
    case COMMENT:
    case PI: {
      const p = xmlCharProblem(n.nodeValue ?? "") ?? xmlCharProblem(n.nodeName);
      const kind = n.nodeType === COMMENT ? "a comment" : n.nodeType === PI ? "a processing instruction" : "the text";
      if (p) return `${kind} in ${where(n.parentNode)} ${p}`;
      break;
    }
    case DOCTYPE:
      return "it has a <!DOCTYPE> declaration";
    default:
      break;
  }
  for (let c = n.firstChild; c; c = c.nextSibling) {
    const p = firstUnwritable(c);
    if (p) return p;
  }
  return undefined;
}

function escapeText(s: string): string {
  let out = "";
  for (const c of s) out += c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c;
  return out;
}

function escapeAttr(s: string): string {
  let out = "";
  for (const c of s) {
    if (c === "&") out += "&amp;";
    else if (c === "<") out += "&lt;";
    else if (c === ">") out += "&gt;";
    // both quotes, whichever delimits: libvirt writes them so, and so does the domain template
    else if (c === "'") out += "&apos;";
    else if (c === '"') out += "&quot;";
    else if (c === "\n") out += "&#10;";
    else if (c === "\r") out += "&#13;";
    else if (c === "\t") out += "&#9;";
    else out += c;
  }
  return out;
}

function serializeNode(n: XNode, quote: string, out: string[]): void {
  switch (n.nodeType) {
    case ELEMENT: {
      const el = n as XElement;
      out.push("<", el.tagName);
      for (let i = 0; i < el.attributes.length; i++) {
        const a = el.attributes[i];
        out.push(" ", a.name, "=", quote, escapeAttr(a.value), quote);
      }
      if (el.childNodes.length === 0) {
        out.push("/>");
        return;
      }
      out.push(">");
      for (let c = el.firstChild; c; c = c.nextSibling) serializeNode(c, quote, out);
      out.push("</", el.tagName, ">");
      return;
    }
    case TEXT:
      out.push(escapeText(n.nodeValue ?? ""));
      return;
    case CDATA:
      out.push("<![CDATA[", n.nodeValue ?? "", "]]>");
      return;
    case COMMENT:
      out.push("<!--", n.nodeValue ?? "", "-->");
      return;
    case PI:
      out.push("<?", n.nodeName, n.nodeValue ? " " + n.nodeValue : "", "?>");
      return;
    case DOCUMENT:
      for (let c = n.firstChild; c; c = c.nextSibling) serializeNode(c, quote, out);
      return;
    default:
      return;
  }
}

/** Serialises a document in libvirt's style; trailingNewline re-adds the newline after the root. */
export function serializeXml(doc: XDocument, opts: { quote?: "'" | '"'; trailingNewline?: boolean } = {}): string {
  const out: string[] = [];
  serializeNode(doc, opts.quote ?? "'", out);
  return out.join("") + (opts.trailingNewline ? "\n" : "");
}

/** Serialises one element (and its children) in libvirt's style, e.g. a device for `virsh attach-device`. */
export function serializeElement(el: XElement): string {
  const out: string[] = [];
  serializeNode(el, "'", out);
  return out.join("");
}

// ---- element helpers ------------------------------------------------------------------------------

export function elementChildren(parent: XNode, name?: string): XElement[] {
  const out: XElement[] = [];
  for (let c = parent.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === ELEMENT && (name === undefined || (c as XElement).tagName === name)) out.push(c as XElement);
  }
  return out;
}

export function firstChild(parent: XNode, name: string): XElement | undefined {
  return elementChildren(parent, name)[0];
}

function isWhitespaceText(n: XNode | null): boolean {
  return !!n && n.nodeType === TEXT && (n.nodeValue ?? "").trim() === "";
}

/** Indentation of an element: the whitespace after the last newline before it. */
function ownIndent(el: XNode): string {
  const prev = el.previousSibling;
  if (!isWhitespaceText(prev)) return "";
  const v = prev!.nodeValue ?? "";
  const nl = v.lastIndexOf("\n");
  return nl < 0 ? "" : v.slice(nl + 1);
}

/** One indentation step of the document (from the root's first child), two spaces by default. */
function indentUnit(doc: XDocument): string {
  const first = doc.documentElement ? elementChildren(doc.documentElement)[0] : undefined;
  const unit = first ? ownIndent(first) : "";
  return unit !== "" ? unit : "  ";
}

function childIndent(parent: XElement): string {
  const first = elementChildren(parent)[0];
  if (first && ownIndent(first) !== "") return ownIndent(first);
  return ownIndent(parent) + indentUnit(parent.ownerDocument!);
}

/** Inserts child before ref (an element child of parent) or at the end, with a line of its own. */
function insertFormatted(parent: XElement, child: XElement, ref: XElement | null): void {
  const doc = parent.ownerDocument!;
  const indent = childIndent(parent);
  const hasElements = elementChildren(parent).length > 0;
  if (!hasElements) {
    for (const c of Array.from(parent.childNodes)) if (isWhitespaceText(c)) parent.removeChild(c);
    parent.appendChild(doc.createTextNode("\n" + indent));
    parent.appendChild(child);
    parent.appendChild(doc.createTextNode("\n" + ownIndent(parent)));
    return;
  }
  if (ref) {
    parent.insertBefore(child, ref);
    parent.insertBefore(doc.createTextNode("\n" + indent), ref);
    return;
  }
  const last = elementChildren(parent).pop()!;
  const after = last.nextSibling;
  parent.insertBefore(doc.createTextNode("\n" + indent), after);
  parent.insertBefore(child, after);
}

/** Removes an element with the whitespace line in front of it; an emptied parent becomes <x/>. */
export function removeFormatted(el: XElement): void {
  const parent = el.parentNode as XElement;
  const prev = el.previousSibling;
  if (isWhitespaceText(prev)) parent.removeChild(prev!);
  parent.removeChild(el);
  if (elementChildren(parent).length === 0 && Array.from(parent.childNodes).every(isWhitespaceText)) {
    for (const c of Array.from(parent.childNodes)) parent.removeChild(c);
  }
}

/**
 * The child element `name` of parent, created when missing at its place in `order` (after the last
 * existing sibling that comes before it, else before the first that comes after it, else first).
 */
function ensureChild(parent: XElement, name: string, order: string[], created: { value: boolean }): XElement {
  const existing = firstChild(parent, name);
  if (existing) return existing;
  const el = parent.ownerDocument!.createElement(name);
  insertInOrder(parent, el, order);
  created.value = true;
  return el;
}

function insertInOrder(parent: XElement, el: XElement, order: string[]): void {
  const pos = order.indexOf(el.tagName);
  const kids = elementChildren(parent);
  const before = kids.filter((k) => order.indexOf(k.tagName) >= 0 && order.indexOf(k.tagName) <= pos);
  if (before.length > 0) {
    const last = before[before.length - 1];
    const next = elementChildren(parent).find((_, i, all) => i > 0 && all[i - 1] === last) ?? null;
    insertFormatted(parent, el, next);
    return;
  }
  const after = kids.find((k) => order.indexOf(k.tagName) > pos);
  insertFormatted(parent, el, after ?? kids[0] ?? null);
}

function setAttr(el: XElement, name: string, value: string): boolean {
  if (el.getAttribute(name) === value && el.hasAttribute(name)) return false;
  el.setAttribute(name, value);
  return true;
}

function removeAttr(el: XElement, name: string): boolean {
  if (!el.hasAttribute(name)) return false;
  el.removeAttribute(name);
  return true;
}

function removeChildren(parent: XElement, name: string): boolean {
  const kids = elementChildren(parent, name);
  for (const k of kids) removeFormatted(k);
  return kids.length > 0;
}

// ---- libvirt domain ---------------------------------------------------------------------------------

const DOMAIN_ORDER = [
  "name",
  "uuid",
  "genid",
  "title",
  "description",
  "metadata",
  "maxMemory",
  "memory",
  "currentMemory",
  "blkiotune",
  "memtune",
  "memoryBacking",
  "vcpu",
  "vcpus",
  "iothreads",
  "cputune",
  "numatune",
  "resource",
  "sysinfo",
  "bootloader",
  "os",
  "features",
  "cpu",
  "clock",
  "on_poweroff",
  "on_reboot",
  "on_crash",
  "pm",
  "perf",
  "idmap",
  "devices",
];
const MEMORY_BACKING_ORDER = ["hugepages", "nosharepages", "locked", "source", "access", "allocation", "discard"];
const FILESYSTEM_ORDER = ["driver", "binary", "source", "target", "readonly"];
const BINARY_ORDER = ["cache", "sandbox", "lock", "thread_pool"];
const DEVICE_ORDER = ["emulator", "disk", "controller", "lease", "filesystem"];

export interface VersionTriple {
  major: number;
  minor: number;
  micro: number;
}

export function parseVersion(v: string): VersionTriple | undefined {
  const m = /^\s*(\d+)\.(\d+)(?:\.(\d+))?\s*$/.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3] ?? 0) } : undefined;
}

export function versionAtLeast(v: VersionTriple, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** What one share's device must contain. */
export interface DeviceSpec {
  tag: string;
  hostPath: string;
  queue: number;
  binaryPath?: string;
  xattr: boolean;
  /** libvirt cache mode: always | none; undefined: no <cache>. */
  cacheMode?: "always" | "none";
  threadPoolSize?: number;
  readonly: boolean;
}

/** How read-only shares are enforced once `auto` is resolved (see virtio_fs_readonly_mechanism). */
export type ReadonlyMechanism = "readonly" | "wrapper" | "guest";

/** `auto` resolved the way the domain template resolves it: <readonly/> from libvirt 11.0, else the wrapper. */
export function resolveReadonlyMechanism(chosen: string, libvirt: VersionTriple): ReadonlyMechanism {
  if (chosen === "auto") return versionAtLeast(libvirt, 11, 0) ? "readonly" : "wrapper";
  if (chosen === "readonly" || chosen === "wrapper" || chosen === "guest") return chosen;
  throw new DomainXmlError(`readonly mechanism ${JSON.stringify(chosen)} is not one of auto, readonly, wrapper, guest`);
}

/**
 * The device a share asks for. A read-only share under the wrapper runs the wrapper as its
 * <binary path> (the wrapper runs the host's virtiofsd, so a binary_path of that share is not used).
 */
export function deviceSpec(share: Share, mechanism: ReadonlyMechanism, wrapperPath: string): DeviceSpec {
  const readonly = filled(share.readonly, `readonly of share ${share.tag}`);
  return {
    tag: share.tag,
    hostPath: share.host_path ?? "",
    queue: filled(share.queue_size, `queue_size of share ${share.tag}`),
    binaryPath: readonly && mechanism === "wrapper" ? wrapperPath : share.binary_path,
    xattr: share.xattr === true,
    cacheMode: share.cache === "always" ? "always" : share.cache === "never" ? "none" : undefined,
    threadPoolSize: share.thread_pool_size,
    readonly: readonly && mechanism === "readonly",
  };
}

function needsBinary(s: DeviceSpec): boolean {
  return s.binaryPath !== undefined || s.xattr || s.cacheMode !== undefined || s.threadPoolSize !== undefined;
}

export function isVirtiofsFilesystem(el: XElement): boolean {
  return elementChildren(el, "driver").some((d) => d.getAttribute("type") === "virtiofs");
}

export function filesystemTag(el: XElement): string | undefined {
  return firstChild(el, "target")?.getAttribute("dir") ?? undefined;
}

export function domainDevices(doc: XDocument, created: { value: boolean } = { value: false }): XElement {
  const root = doc.documentElement!;
  if (root.tagName !== "domain")
    throw new DomainXmlError(`the root element is <${root.tagName}>, not a libvirt <domain>`);
  return ensureChild(root, "devices", DOMAIN_ORDER, created);
}

/** Brings an existing virtiofs <filesystem> to the spec, keeping what is not managed here. Returns true when changed. */
export function syncFilesystem(fsEl: XElement, spec: DeviceSpec): boolean {
  let changed = false;
  const created = { value: false };
  changed = setAttr(fsEl, "type", "mount") || changed;
  changed = setAttr(fsEl, "accessmode", "passthrough") || changed;
  const driver =
    elementChildren(fsEl, "driver").find((d) => d.getAttribute("type") === "virtiofs") ??
    ensureChild(fsEl, "driver", FILESYSTEM_ORDER, created);
  changed = setAttr(driver, "type", "virtiofs") || changed;
  changed = setAttr(driver, "queue", String(spec.queue)) || changed;

  let binary = firstChild(fsEl, "binary");
  if (needsBinary(spec)) {
    binary = ensureChild(fsEl, "binary", FILESYSTEM_ORDER, created);
    changed =
      (spec.binaryPath !== undefined ? setAttr(binary, "path", spec.binaryPath) : removeAttr(binary, "path")) ||
      changed;
    changed = (spec.xattr ? setAttr(binary, "xattr", "on") : removeAttr(binary, "xattr")) || changed;
    if (spec.cacheMode)
      changed = setAttr(ensureChild(binary, "cache", BINARY_ORDER, created), "mode", spec.cacheMode) || changed;
    else changed = removeChildren(binary, "cache") || changed;
    if (spec.threadPoolSize !== undefined) {
      changed =
        setAttr(ensureChild(binary, "thread_pool", BINARY_ORDER, created), "size", String(spec.threadPoolSize)) ||
        changed;
    } else changed = removeChildren(binary, "thread_pool") || changed;
  } else if (binary) {
    changed = removeAttr(binary, "path") || changed;
    changed = removeAttr(binary, "xattr") || changed;
    changed = removeChildren(binary, "cache") || changed;
    changed = removeChildren(binary, "thread_pool") || changed;
    if (binary.attributes.length === 0 && elementChildren(binary).length === 0) {
      removeFormatted(binary);
      changed = true;
    }
  }

  const source = ensureChild(fsEl, "source", FILESYSTEM_ORDER, created);
  changed = setAttr(source, "dir", spec.hostPath) || changed;
  changed = removeAttr(source, "socket") || changed;
  const target = ensureChild(fsEl, "target", FILESYSTEM_ORDER, created);
  changed = setAttr(target, "dir", spec.tag) || changed;
  if (spec.readonly) ensureChild(fsEl, "readonly", FILESYSTEM_ORDER, created);
  else changed = removeChildren(fsEl, "readonly") || changed;
  return changed || created.value;
}

/** Adds a new virtiofs <filesystem> for spec to <devices>, after the last disk/controller/filesystem. */
export function addFilesystem(devices: XElement, spec: DeviceSpec, after?: XElement): XElement {
  const doc = devices.ownerDocument!;
  const fsEl = doc.createElement("filesystem");
  fsEl.setAttribute("type", "mount");
  fsEl.setAttribute("accessmode", "passthrough");
  if (after) {
    const next = elementChildren(devices).find((_, i, all) => i > 0 && all[i - 1] === after) ?? null;
    insertFormatted(devices, fsEl, next);
  } else insertInOrder(devices, fsEl, DEVICE_ORDER);
  syncFilesystem(fsEl, spec);
  return fsEl;
}

const SHARED_MEMORY_REFUSED =
  "virtio-fs needs the guest memory shared, and libvirt refuses the domain otherwise (\"'virtiofs' requires shared memory\")";

/**
 * Makes the guest memory shared the way libvirt checks it (qemuValidateDomainDefVhostUserRequireSharedMemory
 * in src/qemu/qemu_validate.c): without NUMA cells, <memoryBacking><access mode='shared'/> is required;
 * with cells, each cell needs memAccess='shared', or no memAccess and the domain-level shared access.
 * The backing (<source> memfd, file or anonymous, <hugepages>) does not matter to that check, so an
 * existing one is kept; <source type='memfd'/> is added only when the domain names no backing at all.
 * An explicit private access (domain-level, or a cell's memAccess, which overrides it) is the
 * operator's choice: it is refused with DomainXmlError, never silently changed. Returns true when changed.
 */
export function ensureSharedMemory(doc: XDocument): boolean {
  const root = doc.documentElement!;
  const numa = firstChild(root, "cpu") && firstChild(firstChild(root, "cpu")!, "numa");
  const cells = numa ? elementChildren(numa, "cell") : [];
  for (const [i, cell] of cells.entries()) {
    const access = cell.getAttribute("memAccess");
    if (cell.hasAttribute("memAccess") && access !== "shared") {
      throw new DomainXmlError(
        `NUMA cell ${cell.getAttribute("id") ?? i} (<cpu><numa><cell>) has memAccess='${access}', which overrides ` +
          `<memoryBacking><access> for that cell; ${SHARED_MEMORY_REFUSED}: set memAccess='shared' or remove it, then run again`,
      );
    }
  }
  const mb = firstChild(root, "memoryBacking");
  const access = mb && firstChild(mb, "access");
  const mode = access?.getAttribute("mode");
  if (mode === "shared" || (cells.length > 0 && cells.every((c) => c.getAttribute("memAccess") === "shared")))
    return false;
  if (access && access.hasAttribute("mode")) {
    throw new DomainXmlError(
      `<memoryBacking><access mode='${mode}'/> is set; ${SHARED_MEMORY_REFUSED}: ` +
        "change it to <access mode='shared'/> or remove it, then run again",
    );
  }
  const created = { value: false };
  const backing = ensureChild(root, "memoryBacking", DOMAIN_ORDER, created);
  if (!firstChild(backing, "source") && !firstChild(backing, "hugepages")) {
    ensureChild(backing, "source", MEMORY_BACKING_ORDER, created).setAttribute("type", "memfd");
  }
  ensureChild(backing, "access", MEMORY_BACKING_ORDER, created).setAttribute("mode", "shared");
  return true;
}
