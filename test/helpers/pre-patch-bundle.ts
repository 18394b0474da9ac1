/**
 * The workflow bundle as it was before some patches: the same code with each named `patched(...)` check in
 * the matching file answering `false`, and any other text given as it was then. That is what the code
 * before a patch did (no marker, the old path), so a test can start an execution of it and then run or
 * replay it with the current code. The build fails if a check is no longer in the file, so a renamed patch
 * cannot make such a test pass without testing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getLogger } from '../../lib/logger';
import { bundleWorkflows } from '../../worker/bundle';

/**
 * `checks`: the calls as the source writes them, e.g. `patched(WATCH_ON_OWN_TASK_QUEUE_PATCH)`. `was`: other
 * text of the file as the code before wrote it, e.g. an activity option it set to another value.
 */
export async function bundleBeforePatches(
  dir: string,
  file: RegExp,
  checks: readonly string[],
  was: Readonly<Record<string, string>> = {},
): Promise<string> {
  const replacements = [...checks.map((check) => [check, 'false']), ...Object.entries(was)];
  const loader = join(dir, `before-patches-${replacements.length}-${Date.now()}.cjs`);
  writeFileSync(
    loader,
    `const replacements = ${JSON.stringify(replacements)};
module.exports = function (source) {
  for (const [text, before] of replacements) {
    if (!source.includes(text)) throw new Error(this.resourcePath + ' no longer has ' + text);
    source = source.split(text).join(before);
  }
  return source;
};
`,
  );
  return bundleWorkflows(getLogger('pre-patch-bundle'), {
    webpackConfigHook: (config) => {
      config.module?.rules?.push({ test: file, enforce: 'pre', use: [{ loader }] });
      return config;
    },
  });
}
