// A flag given several times (--tag a --tag b) or as a list (--tag a,b). Variadic flags
// (--tag <tag...>) would swallow the positional arguments after them.
export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").filter(Boolean)];
}
