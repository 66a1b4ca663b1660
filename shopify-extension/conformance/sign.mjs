#!/usr/bin/env node
// Conformance CLI: signs and validates Shopify requests with the official `@shopify/shopify-api`
// library, for the LeakGuard server's tests.
//
//   node shopify-extension/conformance/sign.mjs <command> '<json-args>'
//
// Prints exactly one JSON object on stdout and exits 0. On bad input, or when the library
// rejects a value this tool signed, prints {"error": "..."} and exits 1; usage errors exit 2;
// missing npm dependencies (run `npm ci` in shopify-extension/) exit 3.
//
// Commands:
//   webhook          {"secret","body","topic","shop","webhook_id"?,"api_version"?,
//                     "triggered_at"?,"event_id"?,"name"?}
//                    -> {"headers": {name: value}, "body": "<exact body>", "library": {...}}
//   oauth-query      {"secret","shop","timestamp"?,"extra"?: {k: v}}
//                    -> {"query": "<k=v&...&hmac=...>", "hmac", "valid_now"}
//   session-token    {"api_key","secret","shop","sub"?,"exp_offset"?,"nbf_offset"?,
//                     "iat"?,"jti"?,"sid"?}   (exp = iat + exp_offset (60), nbf = iat + nbf_offset (0))
//                    -> {"token": "<jwt>", "payload", "library_checked", "valid_now"}
//   validate-webhook {"secret","headers","body"} -> {"valid": bool, "reason"?, ...}
//   validate-query   {"secret","query","now"?} -> {"valid": bool, "error"?}
//   validate-session-token {"api_key","secret","token","now"?} -> {"valid": bool, "payload"?, "error"?}
//   sanitize         {"shop"?,"host"?} -> {"shop"?: string|null, "host"?: string|null}
//   batch            {"requests": [{"command", "args"}, ...]}
//                    -> {"results": [<output>|{"error"}, ...]}  (one process for many values)
//
// `shop` may be `name` or `name.myshopify.com`; `now` is unix seconds (the library's clock is
// fixed there); omitted ids and timestamps are random or the current time.

function print(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

/** @param {unknown} error */
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

async function loadOracle() {
  try {
    return await import('./oracle.mjs');
  } catch (error) {
    const code = /** @type {{code?: string}} */ (error)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND') {
      print({
        error: `npm dependencies are missing (run \`npm ci\` in shopify-extension/): ${messageOf(error)}`,
      });
      process.exit(3);
    }
    throw error;
  }
}

const oracle = await loadOracle();

/** @type {Record<string, (args: any) => Promise<object>>} */
const COMMANDS = {
  webhook: oracle.signWebhook,
  'oauth-query': oracle.signOauthQuery,
  'session-token': oracle.signSessionToken,
  'validate-webhook': oracle.validateWebhook,
  'validate-query': oracle.validateOauthQuery,
  'validate-session-token': oracle.validateSessionToken,
  sanitize: oracle.sanitize,
};

/** @param {unknown} value */
function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Runs one command; an OracleError becomes {"error"} with status 1.
 * @param {string} command
 * @param {unknown} args
 * @returns {Promise<{status: number, output: object}>}
 */
async function runOne(command, args) {
  const run = COMMANDS[command];
  if (run === undefined) {
    return { status: 2, output: { error: `unknown command ${JSON.stringify(command)}` } };
  }
  if (!isObject(args)) {
    return { status: 2, output: { error: 'json-args must be a JSON object' } };
  }
  try {
    return { status: 0, output: await run(args) };
  } catch (error) {
    const prefix = error instanceof oracle.OracleError ? '' : 'unexpected failure: ';
    return { status: 1, output: { error: `${prefix}${messageOf(error)}` } };
  }
}

/** @param {any} args */
async function runBatch(args) {
  if (!isObject(args) || !Array.isArray(args.requests)) {
    return { status: 2, output: { error: 'batch needs {"requests": [{"command", "args"}, ...]}' } };
  }
  const results = [];
  for (const request of args.requests) {
    const { output } = isObject(request)
      ? await runOne(request.command, request.args)
      : { output: { error: 'each batch request must be {"command", "args"}' } };
    results.push(output);
  }
  return { status: 0, output: { results } };
}

/** @param {string[]} argv */
async function main(argv) {
  const [command, rawArgs = '{}'] = argv;
  const known = command === 'batch' || (command !== undefined && command in COMMANDS);
  if (!known || argv.length > 2) {
    const names = [...Object.keys(COMMANDS), 'batch'].join('|');
    print({ error: `usage: sign.mjs <${names}> '<json-args>'` });
    return 2;
  }
  let args;
  try {
    args = JSON.parse(rawArgs);
  } catch (error) {
    print({ error: `json-args is not valid JSON: ${messageOf(error)}` });
    return 2;
  }
  const { status, output } = command === 'batch' ? await runBatch(args) : await runOne(command, args);
  print(output);
  return status;
}

process.exitCode = await main(process.argv.slice(2));
