import * as z from "zod/mini";
import { hasIllFormedText } from "./json-safety";

/** Whether a parsed JSON value is accepted as it is (its zod output would be the value itself). */
export type Accepts = (value: unknown) => boolean;

type Def = {
  type: string;
  checks?: { _zod: { def: CheckDef } }[];
  shape?: Record<string, z.core.$ZodType>;
  catchall?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
  format?: string;
};
type CheckDef = {
  check: string;
  minimum?: number;
  maximum?: number;
  format?: string;
  pattern?: RegExp;
  value?: number;
  inclusive?: boolean;
};

/**
 * A one-pass check derived from a protocol schema, for the frames every message sends: it says
 * yes only where the schema would accept the value unchanged, and every string it accepts is
 * well-formed Unicode (the rule parseUntrustedJson applies to a whole frame). It never refuses
 * on its own: a "no" sends the frame down the full path (text pre-scan, zod), whose answer and
 * error message stand. test/unit/fast-check.test.ts holds it to zod on a generated corpus.
 *
 * What it cannot express (a custom check, an unknown type) it hands to zod for that value alone.
 */
export function compileAccepts(schema: z.core.$ZodType): Accepts {
  const def = schema._zod.def as unknown as Def;
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  switch (def.type) {
    case "object":
      return objectAccepts(def);
    case "optional": {
      if (!def.innerType) return zodAccepts(schema);
      const inner = compileAccepts(def.innerType);
      return (value) => value === undefined || inner(value);
    }
    case "string":
      return stringAccepts(checks) ?? zodAccepts(schema);
    case "number":
      return numberAccepts(def, checks) ?? zodAccepts(schema);
    case "boolean":
      return checks.length === 0 ? (value) => typeof value === "boolean" : zodAccepts(schema);
    default:
      return zodAccepts(schema);
  }
}

function objectAccepts(def: Def): Accepts {
  const fields = Object.entries(def.shape ?? {}).map(([key, field]) => [key, compileAccepts(field)] as const);
  const known = new Set(fields.map(([key]) => key));
  // A strict object refuses other keys; a loose one would drop them (its output differs): zod decides.
  const strict = def.catchall?._zod.def.type === "never";
  return (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) if (!known.has(key)) return false;
    for (const [key, accepts] of fields) {
      if (!accepts(Object.hasOwn(record, key) ? record[key] : undefined)) return false;
    }
    return strict || Object.keys(record).length <= known.size;
  };
}

function stringAccepts(checks: CheckDef[]): Accepts | null {
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  const patterns: RegExp[] = [];
  for (const check of checks) {
    if (check.check === "min_length") min = Math.max(min, check.minimum ?? 0);
    else if (check.check === "max_length") max = Math.min(max, check.maximum ?? max);
    else if (check.check === "string_format" && check.format === "regex" && check.pattern)
      patterns.push(check.pattern);
    else return null;
  }
  return (value) =>
    typeof value === "string" &&
    value.length >= min &&
    value.length <= max &&
    value.isWellFormed() &&
    patterns.every((p) => {
      p.lastIndex = 0;
      return p.test(value);
    });
}

function numberAccepts(def: Def, checks: CheckDef[]): Accepts | null {
  const whole = def.format === "safeint";
  if (def.format !== undefined && !whole) return null;
  const bounds: ((n: number) => boolean)[] = [];
  for (const check of checks) {
    const limit = check.value ?? 0;
    if (check.check === "greater_than") bounds.push(check.inclusive ? (n) => n >= limit : (n) => n > limit);
    else if (check.check === "less_than") bounds.push(check.inclusive ? (n) => n <= limit : (n) => n < limit);
    else if (check.check !== "number_format") return null;
  }
  return (value) =>
    typeof value === "number" &&
    Number.isFinite(value) &&
    (!whole || Number.isSafeInteger(value)) &&
    bounds.every((within) => within(value));
}

/** zod itself, for one value, and the frame-wide rule that its text is well-formed. */
function zodAccepts(schema: z.core.$ZodType): Accepts {
  return (value) => z.safeParse(schema, value).success && !hasIllFormedText(value);
}
