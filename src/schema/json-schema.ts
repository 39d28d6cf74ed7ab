/** A JSON Schema document or fragment, as parsed from JSON: read, never trusted for its shape. */
export type JsonSchema = { [key: string]: unknown };
