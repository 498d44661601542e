// A yes/no check compiled from a zod schema's own definition, for the hot path of reading a
// history of 100,000+ lines: the same rules as the schema (strict objects, enums, literals,
// formats and regexes, integer and range checks), without building zod's output or issues. A
// line it refuses goes through the zod schema for the message, so the error text stays zod's,
// and the schema stays the one source of the rules. Parts it does not know make compile throw:
// the caller then uses the zod schema for everything.
import type { z } from 'zod';

export type Check = (v: unknown) => boolean;

interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  catchall?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  innerType?: { _zod: { def: Def } };
  values?: unknown[];
  entries?: Record<string, unknown>;
  checks?: { _zod: { def: { check: string; format?: string; pattern?: RegExp; value?: number; inclusive?: boolean } } }[];
}

function numberCheck(def: Def): Check {
  const parts: Check[] = [(v) => typeof v === 'number' && Number.isFinite(v)];
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'number_format' && d.format === 'safeint') parts.push((v) => Number.isSafeInteger(v));
    else if (d.check === 'greater_than') parts.push(d.inclusive ? (v) => (v as number) >= d.value! : (v) => (v as number) > d.value!);
    else if (d.check === 'less_than') parts.push(d.inclusive ? (v) => (v as number) <= d.value! : (v) => (v as number) < d.value!);
    else throw new Error(`fastcheck: number check ${d.check}/${d.format ?? ''} is not supported`);
  }
  return (v) => parts.every((p) => p(v));
}

function stringCheck(def: Def): Check {
  const patterns: RegExp[] = [];
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check !== 'string_format' || !(d.pattern instanceof RegExp)) throw new Error(`fastcheck: string check ${d.check} is not supported`);
    patterns.push(d.pattern);
  }
  return (v) => typeof v === 'string' && patterns.every((p) => p.test(v));
}

function objectCheck(def: Def): Check {
  const fields = Object.entries(def.shape!).map(([k, s]) => {
    const d = s._zod.def;
    return { k, optional: d.type === 'optional', check: compile(d.type === 'optional' ? d.innerType!._zod.def : d) };
  });
  const strict = def.catchall?._zod.def.type === 'never';
  if (def.catchall && !strict) throw new Error('fastcheck: an object catchall other than strict is not supported');
  const known = new Set(fields.map((f) => f.k));
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    for (const f of fields) {
      const x = o[f.k];
      if (x === undefined ? !f.optional : !f.check(x)) return false;
    }
    if (strict) for (const k in o) if (!known.has(k)) return false;
    return true;
  };
}

function compile(def: Def): Check {
  switch (def.type) {
    case 'object':
      return objectCheck(def);
    case 'string':
      return stringCheck(def);
    case 'number':
      return numberCheck(def);
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'literal': {
      const values = def.values!;
      return (v) => values.includes(v);
    }
    case 'enum': {
      const values = Object.values(def.entries!);
      return (v) => values.includes(v);
    }
    case 'array': {
      const item = compile(def.element!._zod.def);
      return (v) => Array.isArray(v) && v.every(item);
    }
    case 'optional': {
      const inner = compile(def.innerType!._zod.def);
      return (v) => v === undefined || inner(v);
    }
    default:
      throw new Error(`fastcheck: zod type ${def.type} is not supported`);
  }
}

/** The schema's rules as one function; throws when the schema uses a part this does not know. */
export function compileCheck(schema: z.ZodType): Check {
  return compile((schema as unknown as { _zod: { def: Def } })._zod.def);
}
