// Extended attributes ("xattrs"), read into tree nodes as restic 0.14 reads them on Linux, and
// written back on restore. The calls never follow symlinks.
import type { ExtendedAttribute, NodeType } from "../repo/model.js";
import { native } from "../common/native.js";

/** What the xattr calls throw: a Node-style fs error, naming the attribute for get and set. */
export interface XattrError extends NodeJS.ErrnoException {
  attribute?: string;
}

/** Attribute names, in the file system's order. */
export function listXattrs(path: string | Buffer): string[] {
  return native.llistxattr(path);
}

export function getXattr(path: string | Buffer, name: string): Buffer {
  return native.lgetxattr(path, name);
}

/** Creates or replaces one attribute. */
export function setXattr(path: string | Buffer, name: string, value: Uint8Array): void {
  native.lsetxattr(path, name, value);
}

/**
 * restic takes these as "nothing here", not as failures: the file system has no xattrs
 * (ENOTSUP), or the attribute went away between list and get (ENODATA).
 */
function isAbsent(err: unknown): boolean {
  const code = (err as XattrError | undefined)?.code;
  return code === "ENOTSUP" || code === "ENODATA";
}

/**
 * A node's `extended_attributes` as restic 0.14 records them: in the order the file system
 * lists them (unsorted), values base64, undefined when there are none (omitempty). Symlinks get
 * none: restic 0.14 skips them, and its restore would set them on the link's target. Other
 * failures go to `warn` and leave out what could not be read; the entry is still backed up.
 */
export function readExtendedAttributes(
  path: string | Buffer,
  type: NodeType,
  warn: (err: unknown, attribute?: string) => void,
): ExtendedAttribute[] | undefined {
  if (type === "symlink") return undefined;
  let names: string[];
  try {
    names = listXattrs(path);
  } catch (err) {
    if (!isAbsent(err)) warn(err);
    return undefined;
  }
  const attributes: ExtendedAttribute[] = [];
  for (const name of names) {
    try {
      attributes.push({ name, value: getXattr(path, name).toString("base64") });
    } catch (err) {
      if (!isAbsent(err)) warn(err, name);
    }
  }
  return attributes.length > 0 ? attributes : undefined;
}

/** Sets each attribute; a failure goes to `warn` and the others are still tried. */
export function restoreExtendedAttributes(
  path: string | Buffer,
  attributes: ExtendedAttribute[],
  warn: (err: unknown, attribute: string) => void,
): void {
  for (const { name, value } of attributes) {
    try {
      // restic writes null for a value that vanished while it read it
      setXattr(path, name, Buffer.from((value as string | null) ?? "", "base64"));
    } catch (err) {
      warn(err, name);
    }
  }
}
