// Label selectors as kubectl writes them: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
// `a` and `!a`, joined by commas (all must hold).
import { ArcaError } from "../common/errors.js";

type Requirement =
  { key: string; op: "in" | "notin"; values: string[] } | { key: string; op: "exists" | "!exists" };

export interface LabelSelector {
  /** The selector as given, for the API server's labelSelector parameter and for messages. */
  text: string;
  matches(labels: Record<string, string> | undefined): boolean;
}

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Splits on commas outside parentheses. */
function clauses(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")") depth--;
    else if (text[i] === "," && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((c) => c.trim());
}

function parseClause(clause: string, text: string): Requirement {
  const bad = (why: string) =>
    new ArcaError(`invalid label selector ${JSON.stringify(text)}: ${why} in ${JSON.stringify(clause)}`, {
      hint: "write it as kubectl does, e.g. app=shop,tier!=cache or env in (prod,staging)",
    });
  const checkKey = (key: string) => {
    if (!KEY.test(key)) throw bad(`${JSON.stringify(key)} is not a label key`);
    return key;
  };
  const checkValue = (value: string) => {
    if (!VALUE.test(value)) throw bad(`${JSON.stringify(value)} is not a label value`);
    return value;
  };
  let m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(clause);
  if (m) {
    const values = (m[3] as string).split(",").map((v) => checkValue(v.trim()));
    return { key: checkKey(m[1] as string), op: m[2] as "in" | "notin", values };
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(clause);
  if (m) {
    const op = m[2] === "!=" ? "notin" : "in";
    return { key: checkKey(m[1] as string), op, values: [checkValue(m[3] as string)] };
  }
  m = /^(!?)\s*(\S+)$/.exec(clause);
  if (m) return { key: checkKey(m[2] as string), op: m[1] ? "!exists" : "exists" };
  throw bad("cannot parse");
}

export function parseSelector(text: string): LabelSelector {
  const requirements = text.trim() === "" ? [] : clauses(text).map((c) => parseClause(c, text));
  return {
    text,
    matches(labels = {}) {
      return requirements.every((r) => {
        const has = Object.hasOwn(labels, r.key);
        switch (r.op) {
          case "exists":
            return has;
          case "!exists":
            return !has;
          case "in":
            return has && r.values.includes(labels[r.key] as string);
          case "notin":
            return !has || !r.values.includes(labels[r.key] as string);
        }
      });
    },
  };
}
