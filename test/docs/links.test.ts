/**
 * Every document the repository refers to is in the repository: markdown links resolve (anchors included),
 * `.md` files named in comments, strings and prose exist, `docs/<page>.md#<anchor>` references hit a
 * heading, paths cited in markdown code spans exist, and nothing cites design notes or fact sheets that
 * live outside the checkout. The second block plants each kind of bad reference and checks it is caught.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkReferences, citingFragments, headingAnchors, readRepository, slugify } from './doc-references';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Built from parts so this file does not itself contain the references it plants. */
const md = (name: string) => [name, 'md'].join('.');
const sectionSign = String.fromCodePoint(0xa7);

function problemsIn(files: Record<string, string>) {
  return checkReferences(new Map(Object.entries(files)));
}

describe('references to documents in this repository', () => {
  it('all resolve', () => {
    const files = readRepository(ROOT);
    // The scan must see the code, the tests, the docs and the scripts, and not the dependencies.
    for (const path of [
      'docs/README.md',
      'model/ip.ts',
      'test/docs/links.test.ts',
      'scripts/setup',
      'agent/backend/dhcp/hostprov-dhclient-script',
    ]) {
      expect(files.has(path), path).toBe(true);
    }
    expect([...files.keys()].some((p) => p.startsWith('node_modules/') || p.startsWith('test/histories/'))).toBe(false);
    const problems = checkReferences(files).map((p) => `${p.file}:${p.line}: ${p.reference}: ${p.problem}`);
    expect(problems).toEqual([]);
  });

  it('the README links the docs index', () => {
    expect(readRepository(ROOT).get(md('README'))).toContain(`(${md('docs/README')})`);
  });
});

describe('the reference check catches', () => {
  const page = md('docs/setup-networks');
  const docs = { [page]: '# Host.setupNetworks\n\n## The connectivity check\n\ntext\n', 'model/ip.ts': 'export const x = 1;\n' };

  it('a fact sheet that is not in the repository, named in a comment', () => {
    const problems = problemsIn({
      ...docs,
      'agent/a.ts': `/** Like VDSM (${md('vdsm-protocol')} ${sectionSign}1.2). */\nexport const a = 1;\n`,
    });
    expect(problems).toEqual([
      expect.objectContaining({
        file: 'agent/a.ts',
        line: 1,
        reference: md('vdsm-protocol'),
        problem: expect.stringContaining('not in the repository'),
      }),
      expect.objectContaining({ file: 'agent/a.ts', reference: `${sectionSign}1`, problem: expect.stringContaining('section number') }),
    ]);
  });

  it('a docs/ anchor without a heading, and accepts one with', () => {
    const problems = problemsIn({
      ...docs,
      'agent/b.ts': `// see ${page}#the-connectivity-check\n// and ${page}#rollback\nexport const b = 1;\n`,
    });
    expect(problems).toEqual([expect.objectContaining({ file: 'agent/b.ts', line: 2, reference: `${page}#rollback` })]);
  });

  it('a page named in a string literal, but not a property called md in code', () => {
    const problems = problemsIn({
      ...docs,
      'bench/c.ts': `const paths = { md: 'x' };\nconsole.log(${md('paths')}, 'see ${md('missing')}');\n`,
    });
    expect(problems.map((p) => p.reference)).toEqual([md('missing')]);
  });

  it('a relative markdown link or anchor that does not resolve, and resolves the good ones', () => {
    const problems = problemsIn({
      ...docs,
      [md('README')]:
        `# hostprov\n\n[docs](${page}#the-connectivity-check) [code](model/) [top](#hostprov) [bad](${md('docs/nope')}) [bad anchor](${page}#nope) [web](https://example.org/${md('x')})\n`,
    });
    expect(problems.map((p) => p.reference)).toEqual([md('docs/nope'), `${page}#nope`]);
  });

  it('a repository file cited in a docs code span that is gone, but not an upstream path', () => {
    const problems = problemsIn({
      ...docs,
      [md('docs/x')]: '# X\n\n`model/ip.ts`, `model/gone.ts`, upstream `lib/vdsm/network/api.py`.\n',
    });
    expect(problems.map((p) => p.reference)).toEqual(['model/gone.ts']);
  });

  it('design notes cited by number and paths out of the checkout', () => {
    const problems = problemsIn({
      ...docs,
      run: `#!/bin/sh\n# per ${['seed', '003'].join(' ')}, see ${['..', 'shared', 'x'].join('/')}\n`,
    });
    expect(problems.map((p) => p.problem)).toEqual([
      expect.stringContaining('design note'),
      expect.stringContaining('outside the repository'),
    ]);
  });
});

describe('helpers', () => {
  it('slugs headings as GitHub does, numbering repeats', () => {
    expect(slugify('JSON-RPC 2.0')).toBe('json-rpc-20');
    expect(slugify('Where our agent differs from VDSM')).toBe('where-our-agent-differs-from-vdsm');
    expect([...headingAnchors('# A\n## A\n```\n# not a heading\n```\n### B c\n')]).toEqual(['a', 'a-1', 'b-c']);
  });

  it('reads comments wherever they sit, and skips regular expressions', () => {
    const texts = citingFragments('x.ts', 'const r = /[\'"]/;\nfunction f() {\n  g();\n  // last comment\n}\n').map((f) => f.text);
    expect(texts).toEqual(['// last comment']);
  });
});
