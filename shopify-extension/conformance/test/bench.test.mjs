import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../bench-validate.mjs', import.meta.url));

test('the validation benchmark validates every delivery and reports rate and percentiles', () => {
  const run = spawnSync(process.execPath, [BENCH, '50', '512', '4'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.validations, 50);
  assert.equal(report.body_bytes, 512);
  assert.equal(report.concurrency, 4);
  assert.ok(report.requests_per_s > 0);
  assert.ok(report.p50_us > 0 && report.p50_us <= report.p99_us && report.p99_us <= report.max_us);
});

test('the validation benchmark refuses a bad count', () => {
  const run = spawnSync(process.execPath, [BENCH, '-3'], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(JSON.parse(run.stdout).error, /positive integer/);
});
