export * from "./core.js";
export * from "./crd.js";
export * from "./custom.js";
export * from "./rbac.js";
export * from "./service.js";
export * from "./storage.js";
export * from "./pod.js";
