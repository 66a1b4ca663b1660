import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const SIGN_CLI = fileURLToPath(new URL('../sign.mjs', import.meta.url));

/**
 * Runs the conformance CLI the way the server tests do and parses its single line of output.
 * `args` is JSON-encoded unless it is already a string.
 */
export function sign(command, args, { expectStatus = 0 } = {}) {
  const rawArgs = typeof args === 'string' ? args : JSON.stringify(args);
  const argv = [SIGN_CLI, command];
  if (rawArgs !== undefined) argv.push(rawArgs);
  const run = spawnSync(process.execPath, argv, { encoding: 'utf8' });
  assert.equal(run.stderr, '', `sign.mjs wrote to stderr: ${run.stderr}`);
  const lines = run.stdout.split('\n');
  assert.equal(lines.length, 2, `sign.mjs must print exactly one line, got: ${run.stdout}`);
  assert.equal(lines[1], '');
  const output = JSON.parse(lines[0]);
  assert.equal(
    run.status,
    expectStatus,
    `sign.mjs ${command} exited ${run.status}: ${lines[0]}`,
  );
  return output;
}

export const SECRET = 'hush';
