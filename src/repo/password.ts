// What a password file means, read the way restic 0.14 reads `--password-file` (textfile.Read
// then strings.TrimSpace): a byte-order mark is dropped, UTF-16 with a BOM is decoded, and
// white space at either end is not part of the password. Both tools then derive the same key
// from the same file. A password given in the environment is taken as it is, by both.
import { readFile } from "node:fs/promises";
import { ArcaError, messageOf } from "../common/errors.js";

/**
 * Go's unicode.IsSpace: what strings.TrimSpace removes. JavaScript's trim() differs (it takes
 * U+FEFF but not U+0085), so the set is spelled out.
 */
const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const ENDS = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "gu");

function decodeText(bytes: Buffer, source: string): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  try {
    // The decoder drops a UTF-8 byte-order mark.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // restic would hash the raw bytes; a replacement character here would derive another key.
    throw new ArcaError(`${source} is not UTF-8 (or UTF-16 with a byte-order mark) text`, {
      hint: "save the password as UTF-8 text",
    });
  }
}

/** The password a password file's bytes hold, as restic reads it; `source` names the file in errors. */
export function passwordFromFile(bytes: Buffer, source: string): string {
  return passwordFromText(decodeText(bytes, source));
}

/** The password in a file's text (a Secret's value, say), as restic reads the file. */
export function passwordFromText(text: string): string {
  return text.replace(/^\ufeff/, "").replace(ENDS, "");
}

/** Reads a password file (--password-file, ARCA_PASSWORD_FILE); an empty one is refused, as restic does. */
export async function readPasswordFile(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ArcaError(`reading the password file ${file}: ${messageOf(err)}`);
  }
  const password = passwordFromFile(bytes, `the password file ${file}`);
  if (!password)
    throw new ArcaError(`the password file ${file} holds no password (it is empty or white space)`, {
      hint: "write the password into it; restic cannot open a repository with an empty password either",
    });
  return password;
}

/** restic refuses an empty password, so a repository made with one could not be opened by it. */
export function checkNewPassword(password: string, hint?: string): void {
  if (password === "")
    throw new ArcaError("an empty password is not a password: restic cannot open a repository that has one", {
      hint:
        hint ??
        "give a password that is not empty (a password file's surrounding white space does not count)",
    });
}
