// Bundles the extension the way the Shopify CLI does (esbuild, preact JSX runtime) to catch
// unresolvable imports and a bundle over the platform's size limit before a deploy would.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const BUNDLE_LIMIT_BYTES = 64 * 1024;

test('the extension bundles into one self-contained module under 64 KB', async () => {
  const result = await build({
    entryPoints: [here('../src/index.tsx')],
    tsconfig: here('../tsconfig.json'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
  assert.deepEqual(result.errors, []);
  const [output] = result.outputFiles;
  assert.ok(output, 'no bundle produced');
  assert.ok(output.contents.byteLength < BUNDLE_LIMIT_BYTES, `bundle is ${output.contents.byteLength} bytes`);
  assert.doesNotMatch(output.text, /react\/jsx-runtime/);
  assert.doesNotMatch(output.text, /\bimport\s*["'{*]/, 'every import is bundled');
  assert.match(output.text, /as default\}/, 'the entry has a default export');
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((path) => path.includes('node_modules/preact/')), 'preact is bundled');
  assert.ok(inputs.some((path) => path.endsWith('src/api.ts')), 'the API client is bundled');
});
