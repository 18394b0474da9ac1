/** What a test reads of a running agent process besides its verbs: its log lines and its HTTP endpoint. */
import { get } from 'node:http';
import type { AgentProcessHost } from './agent-process';

/** GET over the control link (a link-local address with its zone, which fetch does not take). */
export function httpGet(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host, port, path, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** The agent's JSON log lines, parsed. */
export function logLines(h: AgentProcessHost): Array<{ level: number; msg: string; [key: string]: unknown }> {
  return h
    .log()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string });
}
