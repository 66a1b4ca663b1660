#!/usr/bin/env node
// Conformance CLI: signs and validates Shopify requests with the official `@shopify/shopify-api`
// library, for the LeakGuard server's tests.
//
//   node shopify-extension/conformance/sign.mjs <command> '<json-args>'
//
// Prints exactly one JSON object on stdout and exits 0; on bad input, or when the library
// rejects a value this tool signed, prints {"error": "..."} on stdout and exits 1 (2 for usage).
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
//
// `shop` may be `name` or `name.myshopify.com`; `now` is unix seconds (the library's clock is
// fixed there); omitted ids and timestamps are random or the current time.

import {
  messageOf,
  OracleError,
  signOauthQuery,
  signSessionToken,
  signWebhook,
  validateOauthQuery,
  validateSessionToken,
  validateWebhook,
} from './oracle.mjs';

const COMMANDS = {
  webhook: signWebhook,
  'oauth-query': signOauthQuery,
  'session-token': signSessionToken,
  'validate-webhook': async (args) => {
    const verdict = await validateWebhook(args);
    return verdict;
  },
  'validate-query': validateOauthQuery,
  'validate-session-token': validateSessionToken,
};

function print(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

async function main(argv) {
  const [command, rawArgs = '{}'] = argv;
  const run = COMMANDS[command];
  if (run === undefined || argv.length > 2) {
    print({ error: `usage: sign.mjs <${Object.keys(COMMANDS).join('|')}> '<json-args>'` });
    return 2;
  }
  let args;
  try {
    args = JSON.parse(rawArgs);
  } catch (error) {
    print({ error: `json-args is not valid JSON: ${messageOf(error)}` });
    return 2;
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    print({ error: 'json-args must be a JSON object' });
    return 2;
  }
  try {
    print(await run(args));
    return 0;
  } catch (error) {
    if (error instanceof OracleError) {
      print({ error: error.message });
      return 1;
    }
    print({ error: `unexpected failure: ${messageOf(error)}` });
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
