// A template's final user from a build arg (issue 14): `user: '{args.APP_USER}'` takes each
// variant's value of an arg a fragment declares (a manifest may set it), so the runtime user is
// no longer a literal of the template; a missing arg or a value that is no user name is refused.
import { describe, expect, it } from 'vitest';
import { buildFactory } from '../../src/core/index.js';
import { renderDockerfile } from '../../src/core/render.js';
import { patch, readGood, textOf } from '../core/helpers.js';

const HARDENING = 'fragments/hardening/1.0.0/fragment.yaml';
const TEMPLATE = 'templates/debian/1.0.0/template.yaml';
const PY_APP = 'manifests/py-app.yaml';

async function factoryWith(opts: { declare?: string; manifestArg?: string }) {
  const files = await readGood();
  const changes: Record<string, string | undefined> = {
    [TEMPLATE]: textOf(files, TEMPLATE).replace(/^user: app$/m, "user: '{args.APP_USER}'"),
  };
  if (opts.declare !== undefined)
    changes[HARDENING] = textOf(files, HARDENING).replace('slot: security\n', `slot: security\nargs:\n  APP_USER: ${opts.declare}\n`);
  if (opts.manifestArg !== undefined)
    changes[PY_APP] = textOf(files, PY_APP).replace(
      "  PYTHON_VERSION: '{matrix.python}'\n",
      `  PYTHON_VERSION: '{matrix.python}'\n  APP_USER: ${opts.manifestArg}\n`,
    );
  // Edited in place: without the lock, so the digests of the edited versions are not compared.
  return buildFactory(patch(files, { ...changes, 'factory.lock.json': undefined }));
}

const lastLine = (text: string) => text.trimEnd().split('\n').pop();

describe('template user: {args.NAME}', () => {
  it("is each variant's value: the fragment default, or what the manifest sets", async () => {
    const { factory, diagnostics } = await factoryWith({ declare: 'app', manifestArg: 'runner' });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const byProduct = (name: string) => factory!.products.find((p) => p.product.doc.name === name)!;
    const pyApp = byProduct('py-app');
    expect(lastLine(renderDockerfile(pyApp, pyApp.variants[0]!).text)).toBe('USER runner');
    const tools = byProduct('tools');
    expect(lastLine(renderDockerfile(tools, tools.variants[0]!).text)).toBe('USER app');
  });

  it.each([
    { what: 'an arg no fragment declares', opts: {}, message: 'user {args.APP_USER}: no fragment of manifest', hint: 'declare APP_USER with a default' },
    {
      what: 'a value that is no user name',
      opts: { declare: 'app', manifestArg: 'Runner' },
      message: 'is "Runner" in variant python3.11 of manifest py-app@1.0.0, which is not a user name',
      hint: 'lower-case',
    },
  ])('with $what is refused at the template user', async ({ opts, message, hint }) => {
    const { diagnostics } = await factoryWith(opts);
    const errors = diagnostics.filter((d) => d.code === 'bad-user');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ field: 'user', location: { file: TEMPLATE } });
    expect(errors[0]!.message).toContain(message);
    expect(errors[0]!.hint).toContain(hint);
  });
});
