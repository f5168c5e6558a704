import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

// The layers of src/, lowest first: a layer imports only from layers before it (docs/architecture.md).
const layers = [
  "common",
  "storage",
  "repo",
  "snapshot",
  "kube",
  "backup",
  "restore",
  "api",
  "jobs",
  "controller",
  "install",
  "cli",
  "ui",
];
// kube knows nothing of storage or the repository.
const alsoForbidden = { kube: ["storage", "repo", "snapshot"] };

const layerRules = layers.map((layer, i) => {
  const forbidden = [...layers.slice(i + 1), ...(alsoForbidden[layer] ?? [])];
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: forbidden.map((other) => ({
            group: [`../${other}/*`, `../../${other}/*`, `../../../${other}/*`],
            message: `src/${layer} may not import src/${other}: imports only go down the layers (docs/architecture.md).`,
          })),
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".arca-env/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  ...layerRules,
);
