export function summarizeIo(rawFile: string, metaFile: string): void {
  throw new Error(`io summary not implemented yet (${rawFile}, ${metaFile})`);
}
