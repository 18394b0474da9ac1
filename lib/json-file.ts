/** Reading our own JSON files back: absent is `null`; unparsable or wrongly shaped is the caller's typed error. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export async function readJsonFile<T>(path: string, schema: z.ZodType<T>, invalid: (detail: string) => Error): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(`not JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw invalid(z.prettifyError(parsed.error));
  return parsed.data;
}
