import type { Ir } from "../../ir/types";
import type { Outputs } from "../outputs";
import { COLLECTION_FILES as F, REPO_LICENSE, collectionFile } from "../layout";

/**
 * The licence texts the generator holds, by SPDX identifier (schemas/collection.json allows only
 * these). Verbatim, without the generated-file header: licence scanners (GitHub's licensee,
 * Galaxy) recognise the standard text only.
 */
const LICENSE_TEXTS: Record<Ir["collection"]["license"], (copyright: string) => string> = {
  MIT: (copyright) => `MIT License

Copyright (c) ${copyright}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`,
};

/** LICENSE in the repository and in the collection (so the built tarball carries it). */
export function emitLicense(ir: Ir): Outputs {
  const text = LICENSE_TEXTS[ir.collection.license](ir.collection.copyright);
  return new Map([
    [REPO_LICENSE, text],
    [collectionFile(ir, F.license), text],
  ]);
}
