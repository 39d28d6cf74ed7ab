/**
 * What XML 1.0 can carry. Its Char production admits TAB, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD and
 * U+10000-U+10FFFF: other C0 controls (NUL included), U+FFFE, U+FFFF and lone surrogates cannot be
 * written, not even as character references, so text holding them is refused, never written.
 * Shared by the virtio_fs_domain module (which must never write XML that is not well-formed) and
 * `vfsgen render`; no dependency, so the CLI does not pull the XML parser in.
 */

interface IllegalChar {
  /** Index of the character in the string (UTF-16 code units, as JavaScript counts). */
  index: number;
  codePoint: number;
}

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** The first character of s that XML 1.0 cannot represent, or undefined. */
function firstIllegalXmlChar(s: string): IllegalChar | undefined {
  let index = 0;
  // for-of walks code points: a valid surrogate pair is one character, a lone surrogate stays alone
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (!isXmlChar(cp)) return { index, codePoint: cp };
    index += c.length;
  }
  return undefined;
}

/** "U+0001 (a control character)", "U+D800 (a lone surrogate)", "U+FFFE (a noncharacter)". */
function describeCodePoint(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  const kind = cp < 0x20 ? "a control character" : cp >= 0xd800 && cp <= 0xdfff ? "a lone surrogate" : "a noncharacter";
  return `${hex} (${kind})`;
}

/** Why s cannot be written into XML, or undefined when it can. */
export function xmlCharProblem(s: string): string | undefined {
  const bad = firstIllegalXmlChar(s);
  return (
    bad && `contains ${describeCodePoint(bad.codePoint)} at character ${bad.index + 1}, which XML 1.0 cannot represent`
  );
}

/**
 * Text made safe for the inside of an XML comment: a comment ends at the first `--`, and must not
 * end with `-` (it would form `--->`), so every `-` that follows a `-` gets a space in front, a final
 * `-` gets one after, and characters XML cannot carry become U+FFFD. The text cannot close the
 * comment or inject markup, whatever it holds.
 */
export function xmlCommentText(s: string): string {
  let out = "";
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === "-" && out.endsWith("-")) out += " ";
    out += isXmlChar(cp) ? c : "\uFFFD";
  }
  return out.endsWith("-") ? `${out} ` : out;
}
