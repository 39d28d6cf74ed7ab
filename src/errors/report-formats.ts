import * as path from "path";
import { pathToFileURL } from "url";
import { Messages, type Diagnostic, type MessageCode } from "./messages";

/**
 * Machine-readable reports of `vfsgen validate` (--format json, --format sarif): the same diagnostics
 * as the text lines, one object each with code, file, line, column, pointer and message.
 */

/** The formats `vfsgen validate --format` writes; text is the default. */
export const REPORT_FORMATS = ["text", "json", "sarif"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** One input file of a report: what it was read as and what it holds. */
export interface ReportedFile {
  file: string;
  kind: "cluster" | "vars" | "unknown";
  vms: number;
  shares: number;
  valid: boolean;
}

/** Who wrote a report (SARIF's tool.driver). */
export interface ReportTool {
  name: string;
  version: string;
  informationUri: string;
}

interface JsonDiagnostic {
  code: MessageCode;
  severity: "error";
  file: string | null;
  line: number | null;
  column: number | null;
  pointer: string;
  message: string;
}

function jsonDiagnostic(d: Diagnostic): JsonDiagnostic {
  return {
    code: d.code,
    severity: "error",
    file: d.file ?? null,
    line: d.file ? (d.line ?? 1) : null,
    column: d.file ? (d.col ?? 1) : null,
    pointer: d.pointer,
    message: d.message,
  };
}

/** `--format json`: one document, `valid` first, then each file and every diagnostic in text order. */
export function jsonReport(files: ReportedFile[], diagnostics: Diagnostic[]): string {
  const report = {
    valid: diagnostics.length === 0,
    files,
    diagnostics: diagnostics.map(jsonDiagnostic),
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * A file name as a SARIF artifact URI: a relative path stays a relative reference (code-scanning
 * dashboards resolve it against the checkout), an absolute one becomes a file: URI; both percent-encoded.
 */
export function artifactUri(file: string): string {
  if (path.isAbsolute(file)) return pathToFileURL(file).href;
  return file.split(path.sep).map(encodeURIComponent).join("/");
}

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/**
 * `--format sarif`: a SARIF 2.1.0 log with one run. Its rules are the whole message catalogue (a
 * result's ruleIndex points into it); columns are counted in UTF-16 code units, as the text lines count them.
 */
export function sarifReport(tool: ReportTool, diagnostics: Diagnostic[]): string {
  const codes = Object.keys(Messages) as MessageCode[];
  const rules = codes.map((code) => ({
    id: code,
    shortDescription: { text: Messages[code] },
    defaultConfiguration: { level: "error" },
  }));
  const results = diagnostics.map((d) => {
    const location = {
      ...(d.file
        ? {
            physicalLocation: {
              artifactLocation: { uri: artifactUri(d.file) },
              region: { startLine: d.line ?? 1, startColumn: d.col ?? 1 },
            },
          }
        : {}),
      // the JSON pointer names the place in the document; "" (the whole document) names none
      ...(d.pointer ? { logicalLocations: [{ fullyQualifiedName: d.pointer }] } : {}),
    };
    return {
      ruleId: d.code,
      ruleIndex: codes.indexOf(d.code),
      level: "error",
      message: { text: d.message },
      locations: Object.keys(location).length ? [location] : [],
      properties: { pointer: d.pointer },
    };
  });
  const log = {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            semanticVersion: tool.version,
            informationUri: tool.informationUri,
            rules,
          },
        },
        columnKind: "utf16CodeUnits",
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
