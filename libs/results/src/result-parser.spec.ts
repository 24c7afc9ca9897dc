import { parseJsonResult } from './result-parser';

const NO_RESULT = { jsonText: null, jsonError: null };

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the action to throw');
}

describe('parseJsonResult', () => {
  it('returns the JSON between two markers', () => {
    const output = 'starting\n^JSON\n{"a":1}\n^JSON\ndone\n';

    expect(parseJsonResult(output)).toEqual({ jsonText: '{"a":1}', jsonError: null });
  });

  it('returns no result without markers', () => {
    expect(parseJsonResult('hello\nworld\n')).toEqual(NO_RESULT);
  });

  it('returns no result for empty output', () => {
    expect(parseJsonResult('')).toEqual(NO_RESULT);
  });

  it('returns no result for one marker', () => {
    expect(parseJsonResult('log\n^JSON\n{"a":1}\n')).toEqual(NO_RESULT);
  });

  it('returns no result for one marker at the end', () => {
    expect(parseJsonResult('log\n^JSON')).toEqual(NO_RESULT);
  });

  it('accepts markers at start and end', () => {
    expect(parseJsonResult('^JSON\n[1,2]\n^JSON')).toEqual({ jsonText: '[1,2]', jsonError: null });
  });

  it('accepts output without trailing newline', () => {
    const output = 'log\n^JSON\n{"done":true}\n^JSON\nlast line';

    expect(parseJsonResult(output).jsonText).toBe('{"done":true}');
  });

  it('accepts multi-line JSON unchanged', () => {
    const json = '{\n  "name": "backup",\n  "files": [\n    "a",\n    "b"\n  ]\n}';

    expect(parseJsonResult(`^JSON\n${json}\n^JSON\n`).jsonText).toBe(json);
  });

  it('trims blank lines and spaces around the value', () => {
    const output = '^JSON\n\n   \n\t {"a": 1} \t\n\n^JSON\n';

    expect(parseJsonResult(output).jsonText).toBe('{"a": 1}');
  });

  it('keeps whitespace inside the value', () => {
    const json = '{ "a" :\t[ 1 ,  2 ] ,\n "b" : " padded  " }';

    expect(parseJsonResult(`^JSON\n  ${json}  \n^JSON`).jsonText).toBe(json);
  });

  it('keeps number spelling and key order', () => {
    const json = '{"z":1.0,"a":1e3,"m":-0,"big":123456789012345678901234567890}';

    expect(parseJsonResult(`^JSON\n${json}\n^JSON`).jsonText).toBe(json);
  });

  it('keeps escapes, quotes and backslashes', () => {
    const json = String.raw`{"path":"C:\\temp\\x","quote":"say \"hi\"","nl":"a\nb","u":"\u00e9\ud83d\ude00"}`;

    const result = parseJsonResult(`^JSON\n${json}\n^JSON`);

    expect(result.jsonText).toBe(json);
    expect(JSON.parse(result.jsonText as string).path).toBe('C:\\temp\\x');
  });

  it('keeps unicode text', () => {
    const json = '{"greeting":"héllo wörld","emoji":"😀","cjk":"漢字"}';

    expect(parseJsonResult(`日本語\n^JSON\n${json}\n^JSON\n`).jsonText).toBe(json);
  });

  it('accepts scalar JSON values', () => {
    expect(parseJsonResult('^JSON\n42\n^JSON').jsonText).toBe('42');
    expect(parseJsonResult('^JSON\n"text"\n^JSON').jsonText).toBe('"text"');
    expect(parseJsonResult('^JSON\nnull\n^JSON').jsonText).toBe('null');
    expect(parseJsonResult('^JSON\nfalse\n^JSON').jsonText).toBe('false');
  });

  it('uses only the first pair of markers', () => {
    const output = '^JSON\n{"first":1}\n^JSON\nlog\n^JSON\n{"second":2}\n^JSON\n';

    expect(parseJsonResult(output).jsonText).toBe('{"first":1}');
  });

  it('uses the first pair even when invalid', () => {
    const output = '^JSON\nnot json\n^JSON\n^JSON\n{"second":2}\n^JSON\n';

    const result = parseJsonResult(output);

    expect(result.jsonText).toBeNull();
    expect(result.jsonError).toMatch(/^invalid JSON between \^JSON markers: /);
  });

  it('accepts markers ending with carriage return', () => {
    const output = 'log\r\n^JSON\r\n{"a":1}\r\n^JSON\r\ndone\r\n';

    expect(parseJsonResult(output)).toEqual({ jsonText: '{"a":1}', jsonError: null });
  });

  it('accepts a mix of marker line endings', () => {
    expect(parseJsonResult('^JSON\r\n{"a":1}\n^JSON\n').jsonText).toBe('{"a":1}');
    expect(parseJsonResult('^JSON\n{"a":1}\n^JSON\r').jsonText).toBe('{"a":1}');
  });

  it.each([
    ['leading space', ' ^JSON'],
    ['trailing space', '^JSON '],
    ['trailing tab', '^JSON\t'],
    ['lowercase', '^json'],
    ['missing caret', 'JSON'],
    ['extra text', '^JSON result'],
    ['two carriage returns', '^JSON\r\r'],
    ['carriage return first', '\r^JSON'],
    ['doubled marker', '^JSON^JSON'],
  ])('ignores marker-like line with %s', (_case, line) => {
    const output = `${line}\n{"a":1}\n${line}\n`;

    expect(parseJsonResult(output)).toEqual(NO_RESULT);
  });

  it('ignores ^JSON inside a JSON string', () => {
    const output = '{"note":"^JSON"}\n^JSON\n{"text":"^JSON"}\n^JSON\n';

    expect(parseJsonResult(output).jsonText).toBe('{"text":"^JSON"}');
  });

  it('ignores ^JSON followed by JSON on one line', () => {
    const output = '^JSON {"a":1}\nlog\n^JSON\n{"b":2}\n^JSON\n';

    expect(parseJsonResult(output).jsonText).toBe('{"b":2}');
  });

  it('rejects invalid JSON with its reason', () => {
    const parseMessage = messageOf(() => JSON.parse('{"a":1,}'));

    const result = parseJsonResult('^JSON\n{"a":1,}\n^JSON\n');

    expect(result.jsonText).toBeNull();
    expect(result.jsonError).toBe(`invalid JSON between ^JSON markers: ${parseMessage}`);
  });

  it('rejects two JSON values', () => {
    const result = parseJsonResult('^JSON\n{"a":1}\n{"b":2}\n^JSON\n');

    expect(result.jsonText).toBeNull();
    expect(result.jsonError).toMatch(/^invalid JSON between \^JSON markers: /);
  });

  it('rejects adjacent markers as empty', () => {
    const result = parseJsonResult('^JSON\n^JSON\n');

    expect(result.jsonText).toBeNull();
    expect(result.jsonError).toContain('invalid JSON between ^JSON markers');
    expect(result.jsonError).toContain('no text');
  });

  it('rejects only whitespace as empty', () => {
    const result = parseJsonResult('^JSON\n  \n\t\r\n\n^JSON\n');

    expect(result.jsonText).toBeNull();
    expect(result.jsonError).toContain('no text');
  });

  it('rejects non-JSON whitespace around the value', () => {
    // A no-break space is whitespace for String.prototype.trim, but not for JSON.
    const result = parseJsonResult('^JSON\n\u00a0{"a":1}\n^JSON\n');

    expect(result.jsonText).toBeNull();
    expect(result.jsonError).toMatch(/^invalid JSON between \^JSON markers: /);
  });

  it('returns text that parses back', () => {
    const value = { list: [1, 'two', { three: null }], nested: { flag: true } };
    const output = `^JSON\n${JSON.stringify(value, null, 2)}\n^JSON\n`;

    expect(JSON.parse(parseJsonResult(output).jsonText as string)).toEqual(value);
  });

  describe('large output', () => {
    const twentyMegabytes = 20 * 1024 * 1024;

    it('finds a result after 20 MB of log', () => {
      const log = 'x'.repeat(99) + '\n';
      const output = log.repeat(twentyMegabytes / log.length) + '^JSON\n{"ok":true}\n^JSON\n';

      expect(parseJsonResult(output).jsonText).toBe('{"ok":true}');
    });

    it('scans 20 MB of near-marker lines', () => {
      const output = '^JSON \n^JSO\n^JSON\r\r\n'.repeat(twentyMegabytes / 20);

      const started = Date.now();
      expect(parseJsonResult(output)).toEqual(NO_RESULT);
      // Generous bound: a linear scan takes well under a second, a quadratic one never ends.
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('scans a 20 MB line without newlines', () => {
      const output = '^JSON'.repeat(twentyMegabytes / 5);

      expect(parseJsonResult(output)).toEqual(NO_RESULT);
    });

    it('returns a 20 MB JSON value', () => {
      const json = JSON.stringify({ data: 'y'.repeat(twentyMegabytes) });

      const result = parseJsonResult(`log\n^JSON\n${json}\n^JSON\n`);

      expect(result.jsonError).toBeNull();
      expect(result.jsonText?.length).toBe(json.length);
    });

    it('returns no result for 20 MB after one marker', () => {
      const output = '^JSON\n' + 'z'.repeat(twentyMegabytes);

      expect(parseJsonResult(output)).toEqual(NO_RESULT);
    });
  });
});
