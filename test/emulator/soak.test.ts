import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../src/emulator/emulator.ts';
import { fixture } from '../support/function-process.ts';

const INVOKES = 2000;
const CALLERS = 8;

/** Every 50th invoke crashes its environment, every 97th outlives the timeout; the rest echo. */
function actionFor(index: number): 'exit' | 'hang' | 'echo' {
  if (index % 50 === 49) return 'exit';
  if (index % 97 === 96) return 'hang';
  return 'echo';
}

describe('emulator soak', () => {
  let emulator: Emulator;
  const starts = new Map<string, number>();
  const reports = new Map<string, number>();

  beforeAll(async () => {
    emulator = await Emulator.start({
      functions: [
        {
          name: 'soak',
          source: { command: [process.execPath, fixture('behaviours.ts')] },
          timeoutSeconds: 0.5,
          maxEnvironments: CALLERS,
        },
      ],
      log: (_name, line) => {
        const start = /^START RequestId: (\S+)/.exec(line);
        if (start) starts.set(start[1]!, (starts.get(start[1]!) ?? 0) + 1);
        const report = /^REPORT RequestId: (\S+)/.exec(line);
        if (report) reports.set(report[1]!, (reports.get(report[1]!) ?? 0) + 1);
      },
    });
  });
  afterAll(async () => emulator?.close());

  it(`answers ${INVOKES} invokes from ${CALLERS} callers exactly once each, through crashes and timeouts`, {
    timeout: 240_000,
  }, async () => {
    const dispatcher = new Agent({ connections: CALLERS });
    const answers: Array<{ index: number; requestId: string; functionError: boolean; body: any }> = [];
    let next = 0;
    const caller = async () => {
      for (let index = next++; index < INVOKES; index = next++) {
        const response = await request(`${emulator.endpoint}/2015-03-31/functions/soak/invocations`, {
          method: 'POST',
          body: JSON.stringify({ action: actionFor(index), index }),
          dispatcher,
        });
        expect(response.statusCode).toBe(200);
        answers.push({
          index,
          requestId: String(response.headers['x-amzn-requestid']),
          functionError: response.headers['x-amz-function-error'] === 'Unhandled',
          body: await response.body.json(),
        });
      }
    };
    await Promise.all(Array.from({ length: CALLERS }, caller));
    await dispatcher.close();

    expect(answers).toHaveLength(INVOKES);
    expect(new Set(answers.map((answer) => answer.index)).size).toBe(INVOKES);
    expect(new Set(answers.map((answer) => answer.requestId)).size).toBe(INVOKES);
    for (const answer of answers) {
      const action = actionFor(answer.index);
      if (action === 'echo') {
        expect(answer.functionError).toBe(false);
        expect(answer.body).toEqual({ action: 'echo', index: answer.index });
      } else {
        expect(answer.functionError).toBe(true);
        expect(answer.body.errorType).toBe(action === 'exit' ? 'Runtime.ExitError' : 'Sandbox.Timedout');
        expect(answer.body.errorMessage).toContain(answer.requestId);
      }
      // Each invocation ran once: one START and one REPORT in the log.
      expect(starts.get(answer.requestId)).toBe(1);
      expect(reports.get(answer.requestId)).toBe(1);
    }
    const crashed = answers.filter((answer) => actionFor(answer.index) !== 'echo').length;
    console.log(`soak: ${INVOKES} invokes, ${crashed} crashed or timed out, all answered once`);

    // Still up and warm afterwards.
    const after = await emulator.invoke('soak', { payload: Buffer.from('{"action":"echo","after":true}') });
    expect(JSON.parse(after.body.toString())).toEqual({ action: 'echo', after: true });
    expect(emulator.pool('soak')!.environmentCount).toBeLessThanOrEqual(CALLERS);
  });
});
