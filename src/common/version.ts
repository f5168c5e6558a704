// Arca's own version, from package.json: found from the sources (tsx) and from dist/ alike.
import { readFileSync } from "node:fs";

export function arcaVersion(): string {
  // src/common or dist/src/common -> the package root
  for (const up of ["../..", "../../.."]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}/package.json`, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "arca" && pkg.version) return pkg.version;
    } catch {
      // try the next level
    }
  }
  return "unknown";
}
