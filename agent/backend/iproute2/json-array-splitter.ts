/**
 * Parses the elements of one line of ip's JSON output while ip is still printing it. ip flushes after every
 * link it prints, so a dump of 200 links arrives in a hundred chunks over several milliseconds; parsing each
 * link as it arrives leaves only the last one to parse once the line is complete, instead of the whole
 * line (about 2.5 ms for the 285 KB of 100 bridges and their ports, docs/performance.md#where-a-change-of-100-networks-spends-its-time).
 *
 * The line is split where an element begins: ip prints every element of the arrays we split with the same
 * first key (`{"ifindex":` for a link), and `,` + that text cannot occur inside a JSON string, where a `"`
 * is always escaped. A split anywhere else (a nested object that happened to start with that key) leaves a
 * piece that is not JSON on its own, so the split is abandoned and the caller parses the whole line: the
 * elements returned are always exactly those of `JSON.parse(line)`.
 */

/** A line of ip's JSON output (an array) whose elements were parsed as ip printed them. */
export class ParsedJsonArray {
  constructor(readonly elements: readonly unknown[]) {}
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isJsonWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export class JsonArraySplitter {
  private readonly separator: Buffer;
  /** The bytes of the element being received (after the `[` for the first one). */
  private current: Buffer = Buffer.alloc(0);
  /** Where the next search for a separator starts in `current`: the part before was searched already. */
  private searchFrom = 0;
  private opened = false;
  private failed = false;
  private readonly elements: unknown[] = [];

  /** `elementStart`: how every element begins, e.g. `{"ifindex":`. */
  constructor(elementStart: string) {
    this.separator = Buffer.from(`,${elementStart}`, 'utf8');
  }

  /** Takes the next bytes of the line (without its newline). */
  feed(bytes: Buffer): void {
    if (this.failed || bytes.length === 0) return;
    let data = this.current.length ? Buffer.concat([this.current, bytes]) : bytes;
    if (!this.opened) {
      let i = 0;
      while (i < data.length && isJsonWhitespace(data[i] as number)) i += 1;
      if (i === data.length) return;
      if (data[i] !== OPEN_BRACKET) {
        this.failed = true;
        return;
      }
      this.opened = true;
      data = data.subarray(i + 1);
    }
    for (let at = data.indexOf(this.separator, this.searchFrom); at >= 0; at = data.indexOf(this.separator, 0)) {
      if (!this.take(data.subarray(0, at))) return;
      data = data.subarray(at + 1);
      this.searchFrom = 0;
    }
    this.current = data;
    this.searchFrom = Math.max(0, data.length - this.separator.length + 1);
  }

  /** The elements once the line is complete, or null when it must be parsed whole. */
  finish(): ParsedJsonArray | null {
    if (this.failed || !this.opened) return null;
    let end = this.current.length;
    while (end > 0 && isJsonWhitespace(this.current[end - 1] as number)) end -= 1;
    if (end === 0 || this.current[end - 1] !== CLOSE_BRACKET) return null;
    const last = this.current.subarray(0, end - 1);
    const empty = last.every(isJsonWhitespace);
    if (empty && this.elements.length > 0) return null;
    if (!empty && !this.take(last)) return null;
    return new ParsedJsonArray(this.elements);
  }

  private take(piece: Buffer): boolean {
    try {
      this.elements.push(JSON.parse(piece.toString('utf8')));
      return true;
    } catch {
      this.failed = true;
      return false;
    }
  }
}
