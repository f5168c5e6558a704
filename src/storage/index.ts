// The storage layer's public face: what the layers above may use.
export * from "./types.js";
export * from "./errors.js";
export * from "./location.js";
export * from "./open.js";
export * from "./check.js";
export * from "./policy.js";
export * from "./read-only.js";
export {
  secretSource,
  secretFileSource,
  secretKeysFromManifest,
  ADDON_SECRET_NAME,
} from "./alibaba-credentials.js";
export type { CredentialSource, AlibabaCredentials } from "./alibaba-credentials.js";
