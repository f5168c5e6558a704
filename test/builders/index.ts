export * from "./core.js";
export * from "./crd.js";
