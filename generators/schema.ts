// JSON Schema for editors (yaml-language-server) generated from the zod schemas, so the
// schema an editor validates against can never drift from the one the loader enforces.
import { z } from 'zod';
import { Document, Fragment, Template } from '../src/core/schema.js';
import type { OutputFile } from '../src/core/types.js';

const SCHEMA_BASE = 'https://container-factory.dev/schema';

function toSchema(id: string, title: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  const ordered = { $id: `${SCHEMA_BASE}/${id}`, title, ...json };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** schema/*.schema.json: manifests (Product|Manifest|Pool|Base), template.yaml, fragment.yaml. */
export function generateSchemas(): OutputFile[] {
  return [
    {
      path: 'schema/factory.schema.json',
      text: toSchema('factory.schema.json', 'Container Factory manifest document (Product, Manifest, Pool, Base)', Document),
    },
    { path: 'schema/template.schema.json', text: toSchema('template.schema.json', 'Container Factory template.yaml', Template) },
    { path: 'schema/fragment.schema.json', text: toSchema('fragment.schema.json', 'Container Factory fragment.yaml', Fragment) },
  ];
}
