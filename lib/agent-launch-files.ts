/**
 * The files of the built agent in dist/ and the launcher's environment (cli/agent-launch.ts), shared by the
 * launcher, the build (cli/build-main.ts) and the tests. Plain constants: the launcher imports nothing else.
 */

/**
 * The V8 flags every agent runs with (`bin/hostprov agent` gives the same; test/build/node-flags.test.ts
 * checks). A young generation of 8 MB per semi-space from the start: V8's starts at 1 MB and shrinks back
 * while the agent idles between changes, so a change of 100 networks, which allocates some 5 MB (two kernel
 * reads of ~200 links), paid four or five scavenges of ~1 ms each; with 8 MB it pays none
 * (docs/performance.md#the-agents-young-generation). V8 refuses a code cache made under other flags, so the
 * build makes the agent's cache with these too (cli/agent-code-cache.ts).
 */
export const AGENT_V8_FLAGS: readonly string[] = ['--min-semi-space-size=8'];

/** The agent bundle, CommonJS (lib/agent-bundle.ts), beside the launcher. */
export const AGENT_BUNDLE_FILE = 'hostprov-agent.cjs';
/** V8's code cache for the bundle, made by the build (cli/build-main.ts). */
export const AGENT_CODE_CACHE_FILE = 'hostprov-agent.cjs.code-cache';
/** Write the code cache to this file at exit (the build). */
export const CODE_CACHE_OUT_ENV = 'HOSTPROV_AGENT_CODE_CACHE_OUT';
/** `1`: say on stderr whether the code cache was used (tests). */
export const CODE_CACHE_REPORT_ENV = 'HOSTPROV_AGENT_CODE_CACHE_REPORT';

/** What became of the code cache at start, as HOSTPROV_AGENT_CODE_CACHE_REPORT=1 prints it. */
export const CodeCacheUse = {
  USED: 'used',
  /** V8 refused it: another Node or V8 version, other V8 flags, or another bundle. */
  REJECTED: 'rejected',
  ABSENT: 'absent',
} as const;
export type CodeCacheUse = (typeof CodeCacheUse)[keyof typeof CodeCacheUse];
