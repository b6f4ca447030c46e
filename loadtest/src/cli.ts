/**
 * `pnpm loadtest <scenario> [options]` — socket and HTTP load scenarios against a gateway child
 * (or `--url`), with a live progress line, a final table and JSON + markdown results.
 *
 *   pnpm loadtest chat --users 50 --duration 30
 *   pnpm loadtest idle --sockets 20000 --hold 10
 *   pnpm loadtest fanout --subscribers 500 --tokens 2000
 *   pnpm loadtest reconnect --clients 100
 *   pnpm loadtest slow-consumer --slow 20
 *   pnpm loadtest http --duration 10 --connections 50
 */
import { parseArgs } from 'node:util';
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
  const scenario = SCENARIOS[name as ScenarioName];
  if (!scenario) fail(`unknown scenario "${name}"; one of ${Object.keys(SCENARIOS).join(', ')}`);
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
        quiet: { type: 'boolean' },
        'no-write': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.keys(scenario.options).map((k) => [k, { type: 'string' as const }])),
      },
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n${name} options:\n`);
    for (const [k, v] of Object.entries(scenario.options)) process.stdout.write(`  --${k.padEnd(18)} ${v.help} (default ${v.default})\n`);
    return;
  }
  const transport = (values.transport as string | undefined) ?? 'auto';
  if (!['auto', 'uws', 'ws'].includes(transport)) fail(`--transport must be auto, uws or ws, got "${transport}"`);
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
    quiet: Boolean(values.quiet),
  };
  const command = `pnpm loadtest ${argv.join(' ')}`;
  process.stdout.write(`loadtest ${name}: ${JSON.stringify(numbers)}\n`);
  let result: ScenarioResult;
  try {
    result = await scenario.run(common, numbers, command);
  } catch (e) {
    fail(e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
  process.stdout.write(`\n${renderTable(`${name} — ${result.target.transport} — ${result.durationS.toFixed(1)} s`, result.rows)}\n`);
  for (const n of result.notes) process.stdout.write(`note: ${n}\n`);
  if (!values['no-write']) {
    const files = writeResult(name, result);
    process.stdout.write(`wrote ${files.json} and ${files.md}\n`);
  }
  process.exit(0);
}

void main();
