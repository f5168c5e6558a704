// Where the CLI finds the add-on Secret for oss:// locations: a file given with
// --secret-file, or alibaba-addon-secret in the install namespace of the current cluster.
import { messageOf } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import { hasClusterConfig, loadKubeConfig } from "../kube/config.js";
import { readSecretData } from "../kube/secrets.js";
import {
  ADDON_SECRET_NAME,
  secretFileSource,
  secretSource,
  type CredentialSource,
} from "../storage/index.js";
import type { GlobalFlags } from "./cluster-flags.js";

export function ossSecretSource(
  flags: GlobalFlags & { secretFile?: string },
  log: Logger,
): CredentialSource | undefined {
  if (flags.secretFile) return secretFileSource(flags.secretFile);
  if (!hasClusterConfig(flags)) return undefined;
  const name = `Secret ${flags.namespace}/${ADDON_SECRET_NAME}`;
  return secretSource(name, async (signal) => {
    try {
      return await readSecretData(await loadKubeConfig(flags), flags.namespace, ADDON_SECRET_NAME, signal);
    } catch (err) {
      // No cluster at hand is normal for client-side use: the next source may still answer.
      log.warn(
        { source: name, error: messageOf(err) },
        "could not read the add-on Secret; trying the next source",
      );
      return undefined;
    }
  });
}
