/**
 * Finds references to documents that the repository lacks: markdown links that do not resolve, `.md` files
 * named in comments, strings and prose that do not exist, `docs/<page>.md#<anchor>` anchors without a
 * matching heading, repository paths cited in markdown code spans that are gone, and citations of
 * documents that were never part of the repository (design-note numbers, section signs, paths into the
 * folder beside the checkout).
 *
 * Pure over a map of repository-relative path → text, so a test can plant a bad reference and watch it
 * fail; `readRepository` builds that map from disk.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, posix } from 'node:path';
import ts from 'typescript';

export interface ReferenceProblem {
  /** Repository-relative path of the file holding the reference. */
  file: string;
  line: number;
  reference: string;
  problem: string;
}

/** Folders that are not the project's own text: dependencies, tools, build output, recorded data. */
export const EXCLUDED_DIRS = [
  '.git',
  'node_modules',
  '.tools',
  '.data',
  '.state',
  '.scratch',
  '.vitest',
  'dist',
  'coverage',
  'test/histories',
  'test/interop/java-client/target',
];
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** Every project file (text only) under `root`, keyed by its posix path relative to `root`. Symlinks are not followed. */
export function readRepository(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (relDir: string): void => {
    for (const entry of readdirSync(join(root, relDir), { withFileTypes: true })) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        if (!EXCLUDED_DIRS.includes(rel)) walk(rel);
        continue;
      }
      if (!entry.isFile() || entry.name.endsWith('.log')) continue;
      const abs = join(root, rel);
      const text = lstatSync(abs).size > MAX_FILE_BYTES ? '' : readFileSync(abs, 'utf8');
      files.set(rel, text.includes('\0') ? '' : text);
    }
  };
  walk('');
  return files;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slugify(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a markdown text's ATX headings (outside code fences); repeats get `-1`, `-2`, … as on GitHub. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown).split('\n')) {
    const match = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!match?.[1]) continue;
    const base = slugify(match[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Blanks fenced code blocks, keeping line numbers. */
function withoutFences(markdown: string): string {
  let inFence = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^ {0,3}(```|~~~)/.test(line)) {
        inFence = !inFence;
        return '';
      }
      return inFence ? '' : line;
    })
    .join('\n');
}

interface Fragment {
  text: string;
  /** 1-based line of the fragment's first character. */
  line: number;
}

const SCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/**
 * The parts of a file that can cite a document: comments and string literals of TypeScript/JavaScript
 * (not code, where a property may well be called `md`), the whole text of anything else.
 */
export function citingFragments(path: string, text: string): Fragment[] {
  if (!SCRIPT_EXTENSIONS.has(extname(path))) return [{ text, line: 1 }];
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false);
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const fragments: Fragment[] = [];
  const commentsSeen = new Set<number>();
  const addComments = (ranges: ts.CommentRange[] | undefined) => {
    for (const range of ranges ?? []) {
      if (commentsSeen.has(range.pos)) continue;
      commentsSeen.add(range.pos);
      fragments.push({ text: text.slice(range.pos, range.end), line: lineOf(range.pos) });
    }
  };
  // Comments sit in the trivia before a node (`pos`) or after one (`end`): the latter also catches a comment
  // before a closing brace, which belongs to no node.
  const visit = (node: ts.Node): void => {
    addComments(ts.getLeadingCommentRanges(text, node.pos));
    addComments(ts.getLeadingCommentRanges(text, node.end));
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node))
      fragments.push({ text: node.text, line: lineOf(node.getStart(source)) });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return fragments;
}

/** A `.md` file named in text, optionally with an anchor. Not preceded by path or template characters. */
const MD_MENTION = /(?<![\w./<>{}$@*\\-])((?:\.\.?\/)*\w[\w./-]*?\.md)(?:#([\w-]+))?(?![\w-])/g;
/** Citations of documents that never were in the repository. */
const FOREIGN_CITATIONS: ReadonlyArray<{ pattern: RegExp; problem: string }> = [
  { pattern: /\bseeds? ?0\d\d\b/gi, problem: 'cites a design note by number; point to docs/design-decisions.md instead' },
  { pattern: /§ ?\d/g, problem: 'cites a section number of a document outside the repository; point to a docs/ heading instead' },
  { pattern: /\.\.\/shared\b/g, problem: 'points at a folder outside the repository' },
];
/** `[text](target)` and `![alt](target)`, with an optional title. */
const MD_LINK = /!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
/** A repository path in a markdown code span, e.g. `model/ip.ts`. */
const CODE_SPAN_PATH = /`((?:[\w.-]+\/)+[\w.-]+\.(?:ts|mts|mjs|js|json|md|sh))`/g;

function lineAt(fragment: Fragment, index: number): number {
  let line = fragment.line;
  for (let i = 0; i < index; i += 1) if (fragment.text.charCodeAt(i) === 10) line += 1;
  return line;
}

/** Checks every file of `files` (path → text) against the others; returns each problem once. */
export function checkReferences(files: ReadonlyMap<string, string>): ReferenceProblem[] {
  const paths = new Set(files.keys());
  const dirs = new Set<string>();
  for (const path of paths) {
    for (let dir = posix.dirname(path); dir !== '.'; dir = posix.dirname(dir)) dirs.add(dir);
  }
  const topDirs = new Set([...dirs].filter((d) => !d.includes('/')));
  const byBasename = new Map<string, string[]>();
  for (const path of paths) byBasename.set(posix.basename(path), [...(byBasename.get(posix.basename(path)) ?? []), path]);
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (path: string) => {
    let anchors = anchorCache.get(path);
    if (!anchors) anchorCache.set(path, (anchors = headingAnchors(files.get(path) ?? '')));
    return anchors;
  };
  /** Normalised repository path, or null when it leaves the repository. */
  const inRepo = (path: string): string | null => {
    const normal = posix.normalize(path).replace(/\/$/, '');
    return normal.startsWith('..') || posix.isAbsolute(normal) ? null : normal === '.' ? '' : normal;
  };

  const problems: ReferenceProblem[] = [];
  const reported = new Set<string>();
  // A markdown link target is also a mention; report it once.
  const report = (file: string, line: number, reference: string, problem: string) => {
    const key = `${file}:${line}:${reference}`;
    if (!reported.has(key)) problems.push({ file, line, reference, problem });
    reported.add(key);
  };
  const checkAnchor = (file: string, line: number, reference: string, targets: string[], anchor: string | undefined) => {
    if (anchor === undefined) return;
    const markdown = targets.filter((t) => t.endsWith('.md'));
    if (markdown.length && !markdown.some((t) => anchorsOf(t).has(anchor))) {
      report(file, line, reference, `no heading with anchor #${anchor} in ${markdown.join(', ')}`);
    }
  };

  for (const [file, text] of files) {
    if (!text) continue;
    const dir = posix.dirname(file) === '.' ? '' : posix.dirname(file);
    const isMarkdown = file.endsWith('.md');

    // Parsing is the slow part: skip files that cannot hold a reference at all.
    const mayCite = /\.md\b|\bseed|§|\.\.\/shared/i.test(text);
    for (const fragment of mayCite ? citingFragments(file, text) : []) {
      for (const match of fragment.text.matchAll(MD_MENTION)) {
        const [reference, name = '', anchor] = match;
        const line = lineAt(fragment, match.index);
        const candidates = name.includes('/')
          ? [inRepo(posix.join(dir, name)), name.startsWith('.') ? null : inRepo(name)]
          : [inRepo(posix.join(dir, name)), ...(byBasename.get(name) ?? [])];
        const found = [...new Set(candidates.filter((c): c is string => c !== null && paths.has(c)))];
        if (!found.length) report(file, line, reference, `names ${name}, which is not in the repository`);
        else checkAnchor(file, line, reference, found, anchor);
      }
      for (const { pattern, problem } of FOREIGN_CITATIONS) {
        for (const match of fragment.text.matchAll(pattern)) report(file, lineAt(fragment, match.index), match[0], problem);
      }
    }

    if (!isMarkdown) continue;
    const prose: Fragment = { text: withoutFences(text), line: 1 };
    for (const match of prose.text.matchAll(MD_LINK)) {
      const target = match[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
      const [pathPart = '', anchor] = target.split('#', 2);
      const line = lineAt(prose, match.index);
      const resolved = pathPart === '' ? file : inRepo(pathPart.startsWith('/') ? pathPart.slice(1) : posix.join(dir, decodeURI(pathPart)));
      if (resolved === null || !(paths.has(resolved) || dirs.has(resolved) || resolved === '')) {
        report(file, line, target, 'link target is not in the repository');
        continue;
      }
      if (paths.has(resolved)) checkAnchor(file, line, target, [resolved], anchor);
    }
    for (const match of prose.text.matchAll(CODE_SPAN_PATH)) {
      const path = match[1] ?? '';
      if (!topDirs.has(path.split('/')[0] ?? '')) continue; // an upstream project's path, not ours
      if (!paths.has(path) && !paths.has(inRepo(posix.join(dir, path)) ?? '')) {
        report(file, lineAt(prose, match.index), path, 'cites a repository file that does not exist');
      }
    }
  }
  return problems;
}
