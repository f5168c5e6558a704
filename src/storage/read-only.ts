// A store that refuses every write: what a repository opened with --no-lock reads through, so
// that a command run without a lock cannot change the repository by mistake.
import { ArcaError } from "../common/errors.js";
import type { ObjectStore } from "./types.js";

export function readOnlyStore(store: ObjectStore, why: string): ObjectStore {
  const refuse = (key: string): Promise<never> =>
    Promise.reject(
      new ArcaError(`refusing to write ${key} to ${store.location}: ${why}`, {
        hint: "run the command without --no-lock",
      }),
    );
  return {
    location: store.location,
    atomicCreate: store.atomicCreate,
    put: (key) => refuse(key),
    create: (key) => refuse(key),
    delete: (key) => refuse(key),
    get: (key, options) => store.get(key, options),
    getStream: (key, options) => store.getStream(key, options),
    head: (key, options) => store.head(key, options),
    list: (prefix, options) => store.list(prefix, options),
    close: () => store.close(),
  };
}
