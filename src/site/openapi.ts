// The OpenAPI 3.1 document of the read-only API, generated from the same zod schemas the site's
// JSON is parsed through (so the document cannot drift from what is served). Path parameters
// list their valid values, so a client (or a fuzzer) knows which names exist.
import { z } from 'zod';
import { API_PREFIX, type Route } from './api.js';
import * as S from './schemas.js';

interface Template {
  template: string;
  schema: z.ZodType;
  summary: string;
  /** The parameter names, in order, matched against the concrete routes. */
  params: string[];
}

const TEMPLATES: Template[] = [
  { template: 'index.json', schema: S.Index, summary: 'What the API holds and every route', params: [] },
  { template: 'products.json', schema: S.ProductSummary.array(), summary: 'Products with their latest results', params: [] },
  {
    template: 'products/{name}/{version}.json',
    schema: S.ProductDetail,
    summary: 'A product: manifest, fragments, variants, targets, history',
    params: ['name', 'version'],
  },
  { template: 'manifests.json', schema: S.ManifestSummary.array(), summary: 'Manifests and the products that use them', params: [] },
  { template: 'templates.json', schema: S.TemplateSummary.array(), summary: 'Template versions and their users', params: [] },
  { template: 'fragments.json', schema: S.FragmentSummary.array(), summary: 'Fragment versions, their tests and users', params: [] },
  { template: 'targets.json', schema: S.TargetSummary.array(), summary: 'Every bake target with its latest result', params: [] },
  { template: 'targets/{target}.json', schema: S.TargetDetail, summary: "A target's test plan, latest record and history", params: ['target'] },
  { template: 'records.json', schema: S.Records, summary: 'The latest record of every target', params: [] },
  { template: 'kpi.json', schema: S.Kpis, summary: 'KPIs: durations, success, cache hits, queue wait and depth per pool, daily series', params: [] },
  {
    template: 'compat/{name}/{version}.json',
    schema: S.Compat,
    summary: 'What was built together with a fragment, template or product version',
    params: ['name', 'version'],
  },
];

function matcher(t: Template): RegExp {
  const body = t.template.replace(/[.]/g, '\\.').replace(/\{[a-z]+\}/g, '([^/]+)');
  return new RegExp(`^${API_PREFIX}/${body}$`);
}

function json(schema: z.ZodType): unknown {
  const s = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: json(S.ApiError) } } });

export function openApi(routes: readonly Route[], title: string): unknown {
  const paths: Record<string, unknown> = {};
  for (const t of TEMPLATES) {
    const re = matcher(t);
    const values = t.params.map((_, i) => [...new Set(routes.map((r) => re.exec(r.path)?.[i + 1]).filter((v): v is string => v !== undefined))].sort());
    if (t.params.length && values.some((v) => v.length === 0)) continue;
    paths[`/${API_PREFIX}/${t.template}`] = {
      get: {
        summary: t.summary,
        operationId: t.template.replace(/\{|\}|\.json/g, '').replace(/[/]/g, '_'),
        parameters: t.params.map((name, i) => ({ name, in: 'path', required: true, schema: { type: 'string', enum: values[i] } })),
        responses: {
          '200': { description: t.summary, headers: { ETag: { schema: { type: 'string' } } }, content: { 'application/json': { schema: json(t.schema) } } },
          '304': { description: 'not modified (If-None-Match matched the ETag)' },
          ...(t.params.length ? { '404': errorResponse('no such name or version') } : {}),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: `${title} read-only API`,
      version: '1',
      description:
        'Products, manifests, templates, fragments, targets, test plans, records, history, KPIs and compatibility of a container factory. GET and HEAD only.',
    },
    paths,
  };
}
