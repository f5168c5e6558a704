// Object keys are relative, '/'-separated paths. Checking them in one place keeps every driver
// from writing outside its location (a file path escaping its root, a key with a NUL).
import { ArcaError } from "../common/errors.js";

export function checkKey(key: string): string {
  return check(key, "object key", false);
}

/** A listing prefix may be empty and may end with '/'. */
export function checkPrefix(prefix: string): string {
  return check(prefix, "prefix", true);
}

function check(key: string, what: string, isPrefix: boolean): string {
  const bad = (why: string) => new ArcaError(`invalid ${what} ${JSON.stringify(key)}: ${why}`);
  if (key === "") {
    if (isPrefix) return key;
    throw bad("it is empty");
  }
  if (key.includes("\0")) throw bad("it contains a NUL byte");
  if (key.startsWith("/")) throw bad("it is absolute");
  if (key.includes("\\")) throw bad("it contains a backslash");
  const parts = key.split("/");
  if (isPrefix && parts.at(-1) === "") parts.pop();
  for (const part of parts) {
    if (part === "." || part === "..") throw bad("it contains a '.' or '..' segment");
    if (part === "") throw bad("it contains an empty segment ('//')");
  }
  return key;
}

/** Joins a location prefix and a key with exactly one '/' between them. */
export function joinKey(prefix: string, key: string): string {
  if (prefix === "") return key;
  return `${prefix.replace(/\/+$/, "")}/${key}`;
}
