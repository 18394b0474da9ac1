/**
 * A fence agent's self-description, `fence_<agent> -o metadata` (fence-agents lib/fencing.py.py
 * `metadata`): one `<parameter>` per option it reads, e.g.
 *
 *   <parameter name="password_script" unique="0" required="0" obsoletes="passwd_script">
 *     <getopt mixed="-S, --password-script=[script]" />
 *     <content type="string" />
 *     <shortdesc lang="en">Script to run to retrieve password</shortdesc>
 *   </parameter>
 *
 * The format is fixed and flat and comes from a root-owned binary, so a few patterns read it; no XML library.
 */
import { VdsmCode, VdsmError } from '../../model/vdsm/error-codes';

export interface FenceAgentParameter {
  /** The name the agent reads on stdin, e.g. `password_script`. */
  readonly name: string;
  /** The older name this one replaces (`passwd_script`); that one is listed too, marked deprecated. */
  readonly obsoletes: string | null;
  readonly deprecated: boolean;
  /** The getopt letter (`S`), if any. */
  readonly short: string | null;
  /** The long option without dashes (`password-script`), if any. */
  readonly long: string | null;
  /** What the value is, from the getopt text (`script` in `--password-script=[script]`), if any. */
  readonly placeholder: string | null;
  /** `string`, `boolean`, `integer`, `select`, `second`, … */
  readonly contentType: string | null;
  readonly shortdesc: string;
}

export interface FenceAgentMetadata {
  /** `fence_ipmilan` (the name the agent gives itself). */
  readonly agent: string;
  readonly parameters: readonly FenceAgentParameter[];
}

/** The agent's metadata could not be read or understood, so no option of it can be accepted. */
export class FenceAgentMetadataError extends VdsmError {
  constructor(
    readonly agent: string,
    detail: string,
  ) {
    super(VdsmCode.GENERAL_FAILURE, `fence_${agent} gave no usable metadata (${detail}), so its options cannot be checked`);
  }
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? '';
  });
}

function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const match of text.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g)) out.set(match[1] ?? '', decodeEntities(match[2] ?? ''));
  return out;
}

/** `-S, --password-script=[script]`, `--ipport=PORT`, `-x, --ssh`, `--key-value=<id|hash>`. */
export function parseGetopt(mixed: string): Pick<FenceAgentParameter, 'short' | 'long' | 'placeholder'> {
  const match = /^\s*(?:-([A-Za-z0-9]),?\s*)?(?:--([A-Za-z0-9][A-Za-z0-9_.-]*))?(?:=(.*))?\s*$/.exec(mixed);
  if (!match) return { short: null, long: null, placeholder: null };
  const placeholder = match[3]?.replace(/^[[<]|[\]>]$/g, '').trim();
  return { short: match[1] ?? null, long: match[2] ?? null, placeholder: placeholder || null };
}

export function parseFenceAgentMetadata(agent: string, xml: string): FenceAgentMetadata {
  const root = /<resource-agent\s([^>]*)>/.exec(xml);
  if (!root) throw new FenceAgentMetadataError(agent, 'no <resource-agent> element');
  const parameters: FenceAgentParameter[] = [];
  for (const match of xml.matchAll(/<parameter\s([^>]*?)\/?>(?:([\s\S]*?)<\/parameter>)?/g)) {
    const attrs = attributes(match[1] ?? '');
    const name = attrs.get('name');
    if (!name) throw new FenceAgentMetadataError(agent, 'a <parameter> without a name');
    const body = match[2] ?? '';
    const getopt = /<getopt\s([^>]*?)\/?>/.exec(body);
    const content = /<content\s([^>]*?)\/?>/.exec(body);
    const shortdesc = /<shortdesc[^>]*>([\s\S]*?)<\/shortdesc>/.exec(body);
    parameters.push({
      name,
      obsoletes: attrs.get('obsoletes') ?? null,
      deprecated: attrs.get('deprecated') === '1',
      ...parseGetopt(getopt ? (attributes(getopt[1] ?? '').get('mixed') ?? '') : ''),
      contentType: content ? (attributes(content[1] ?? '').get('type') ?? null) : null,
      shortdesc: shortdesc ? decodeEntities(shortdesc[1] ?? '').trim() : '',
    });
  }
  if (parameters.length === 0) throw new FenceAgentMetadataError(agent, 'no <parameter> elements');
  return { agent: attributes(root[1] ?? '').get('name') ?? `fence_${agent}`, parameters };
}
