// A stand-in for the SDK's S3Client in the unit tests of the store's
// decisions: each command is answered by the test's own function, by name
// ('PutObject', 'HeadObject', ...), and every command sent is recorded. What
// a real store does is the integration suites' part (s3rver, Ceph RGW).
import type { S3Client } from '@aws-sdk/client-s3';
import { createLogger, type Logger } from '@logjam/core';

export interface Sent {
  /** The command's name without "Command": 'PutObject'. */
  name: string;
  input: Record<string, unknown>;
}

export type Answer = (name: string, input: Record<string, unknown>) => unknown;

/** A client whose every `send` goes to `answer` (a throw is the request's error); `sent` lists what was sent, in order. */
export function fakeClient(answer: Answer): { client: S3Client; sent: Sent[]; names: () => string[] } {
  const sent: Sent[] = [];
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = command.constructor.name.replace(/Command$/, '');
    sent.push({ name, input: command.input });
    return answer(name, command.input);
  };
  // `config`: read by checkBucket (whether an endpoint is set).
  return { client: { send, config: {} } as unknown as S3Client, sent, names: () => sent.map((s) => s.name) };
}

/** An error as the SDK throws it for an S3 error answer: its code, and the HTTP status. */
export function s3Error(code: string, status: number): Error {
  return Object.assign(new Error(`${code} (test)`), { name: code, $metadata: { httpStatusCode: status } });
}

/** A logger that keeps its lines, to check what was said at which level. */
export function keptLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ name: 'test', level: 'debug', write: (line: string) => lines.push(line) }), lines };
}
