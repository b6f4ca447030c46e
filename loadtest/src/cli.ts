/**
 * `pnpm loadtest <scenario> [options]` — socket and HTTP load scenarios against a gateway child
 * (or `--url`), with a live progress line, a final table and JSON + markdown results.
 *
 *   pnpm loadtest chat --users 50 --duration 30
 *   pnpm loadtest chat --users 500 --think 30 --think-dist exponential
 *   pnpm loadtest chat --preset stress   (or: pnpm loadtest chat-stress)
 *   pnpm loadtest idle --sockets 20000 --hold 10
 *   pnpm loadtest fanout --subscribers 500 --tokens 2000
 *   pnpm loadtest reconnect --clients 100
 *   pnpm loadtest slow-consumer --slow 20
 *   pnpm loadtest http --duration 10 --connections 50
 */
import { parseArgs } from 'node:util';
import { measuredGatewayCommand } from './support/gateway-process.js';
import { renderTable, writeResult, type ScenarioResult } from './support/report.js';
import { SCENARIOS, type ScenarioName } from './scenarios/registry.js';

const USAGE = `usage: pnpm loadtest <scenario> [options]

scenarios: ${Object.keys(SCENARIOS).join(', ')}

common options:
  --url URL           use a running gateway instead of starting one
  --pid N             pid of the gateway at --url (memory and CPU figures)
  --transport T       auto | uws | ws for the gateway child (default auto)
  --cpu-prof DIR      write a V8 CPU profile of the gateway child into DIR
  --log-level L       gateway child log level (default warn)
  --stack S           embedded (PGlite, in-process bus; default) | postgres-redis (a fresh
                      database on the local Postgres and a private redis-server)
  --replicas N        N gateway children on one Postgres + Redis behind nginx (with
                      --stack postgres-redis); CPU is reported per child, summed, and for nginx
  --gateway-cmd CMD   command that runs the gateway child (default: $LOADTEST_GATEWAY_CMD, else
                      the compiled gateway, node gateway/dist/server/main.js, built first)
  --quiet             no progress line
  --no-write          do not write loadtest/results/
  -h, --help          this text, and the scenario's options with \`pnpm loadtest <scenario> --help\`
`;

function fail(message: string): never {
  process.stderr.write(`loadtest: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const name = argv[0];
  if (!name || name === '-h' || name === '--help') {
    process.stdout.write(USAGE);
    return;
  }
  let scenario = SCENARIOS[name as ScenarioName];
  if (!scenario) fail(`unknown scenario "${name}"; one of ${Object.keys(SCENARIOS).join(', ')}`);
  // `chat --preset stress` is the chat-stress scenario (its defaults; flags still override).
  const presetAt = argv.indexOf('--preset');
  const preset = presetAt > 0 ? argv[presetAt + 1] : argv.find((a) => a.startsWith('--preset='))?.slice(9);
  if (preset !== undefined) {
    if (name !== 'chat' || preset !== 'stress') fail(`--preset: only \`chat --preset stress\` exists, got "${name} --preset ${preset}"`);
    scenario = SCENARIOS['chat-stress'];
  }
  const baseName = preset !== undefined ? 'chat-stress' : name;
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv.slice(1),
      options: {
        url: { type: 'string' },
        pid: { type: 'string' },
        transport: { type: 'string' },
        'cpu-prof': { type: 'string' },
        'log-level': { type: 'string' },
        'gateway-cmd': { type: 'string' },
        stack: { type: 'string' },
        replicas: { type: 'string' },
        quiet: { type: 'boolean' },
        'no-write': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries([...Object.keys(scenario.options), ...Object.keys(scenario.choices ?? {})].map((k) => [k, { type: 'string' as const }])),
        preset: { type: 'string' },
      },
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n${name} options:\n`);
    for (const [k, v] of Object.entries(scenario.options)) process.stdout.write(`  --${k.padEnd(18)} ${v.help} (default ${v.default})\n`);
    for (const [k, v] of Object.entries(scenario.choices ?? {})) process.stdout.write(`  --${k.padEnd(18)} ${v.help}: ${v.choices.join(' | ')} (default ${v.default})\n`);
    if (name === 'chat') process.stdout.write(`  --preset stress     the seeds' stress test (same as the chat-stress scenario)\n`);
    return;
  }
  const words: Record<string, string> = {};
  for (const [k, spec] of Object.entries(scenario.choices ?? {})) {
    const raw = (values[k] as string | undefined) ?? spec.default;
    if (!spec.choices.includes(raw)) fail(`--${k} must be one of ${spec.choices.join(', ')}, got "${raw}"`);
    words[k] = raw;
  }
  const transport = (values.transport as string | undefined) ?? 'auto';
  if (!['auto', 'uws', 'ws'].includes(transport)) fail(`--transport must be auto, uws or ws, got "${transport}"`);
  const stack = (values.stack as string | undefined) ?? 'embedded';
  if (!['embedded', 'postgres-redis'].includes(stack)) fail(`--stack must be embedded or postgres-redis, got "${stack}"`);
  // Results of a run on Postgres + Redis are kept beside the embedded ones, not over them.
  const replicas = values.replicas === undefined ? 1 : Number(values.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) fail(`--replicas must be an integer 1..8, got "${values.replicas}"`);
  if (replicas > 1 && stack !== 'postgres-redis') fail('--replicas needs --stack postgres-redis (replicas share Postgres and Redis)');
  const resultName = `${stack === 'embedded' ? baseName : `${baseName}-${stack}`}${replicas > 1 ? `-${replicas}replicas` : ''}`;
  const numbers: Record<string, number> = {};
  for (const [k, spec] of Object.entries(scenario.options)) {
    const raw = values[k] as string | undefined;
    const n = raw === undefined ? spec.default : Number(raw);
    if (!Number.isFinite(n) || n < (spec.min ?? 0)) fail(`--${k} must be a number >= ${spec.min ?? 0}, got "${raw}"`);
    numbers[k] = n;
  }
  const pid = values.pid === undefined ? undefined : Number(values.pid);
  if (pid !== undefined && !Number.isInteger(pid)) fail('--pid must be an integer');
  const common = {
    url: values.url as string | undefined,
    pid,
    transport: transport as 'auto' | 'uws' | 'ws',
    cpuProf: values['cpu-prof'] as string | undefined,
    logLevel: values['log-level'] as string | undefined,
    gatewayCmd: values.url ? undefined : measuredGatewayCommand(values['gateway-cmd'] as string | undefined),
    stack: stack as 'embedded' | 'postgres-redis',
    quiet: Boolean(values.quiet),
    replicas,
  };
  const command = `pnpm loadtest ${argv.join(' ')}`;
  process.stdout.write(`loadtest ${name}: ${JSON.stringify(numbers)}\n`);
  let result: ScenarioResult;
  try {
    result = await scenario.run(common, numbers, command, words);
  } catch (e) {
    fail(e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
  process.stdout.write(`\n${renderTable(`${name} — ${result.target.transport} — ${result.durationS.toFixed(1)} s`, result.rows)}\n`);
  for (const n of result.notes) process.stdout.write(`note: ${n}\n`);
  if (!values['no-write']) {
    const files = writeResult(resultName, result);
    process.stdout.write(`wrote ${files.json} and ${files.md}\n`);
  }
  process.exit(0);
}

void main();
