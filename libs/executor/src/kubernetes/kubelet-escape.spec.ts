import { randomInt } from 'node:crypto';
import { escapeForKubelet } from './kubelet-escape';

/**
 * The kubelet's expansion of command, args and env values, written from the rules of
 * k8s.io/kubernetes/third_party/forked/golang/expansion: `$$` becomes `$`, `$(NAME)` becomes
 * the value of a defined NAME and stays as written otherwise, and any other `$` is kept.
 */
function expandLikeKubelet(input: string, variables: Record<string, string>): string {
  let output = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) {
      continue;
    }
    output += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    if (next === '$') {
      output += '$';
      cursor += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) {
        output += '$(';
        cursor += 1;
      } else {
        const name = input.slice(cursor + 2, close);
        output += name in variables ? variables[name] : `$(${name})`;
        cursor = close;
      }
    } else {
      output += '$' + next;
      cursor += 1;
    }
    checkpoint = cursor + 1;
  }
  return output + input.slice(checkpoint);
}

const VARIABLES = { HOME: '/root', GIT_TOKEN: 'secret-token', EMPTY: '' };

describe('expandLikeKubelet', () => {
  it.each([
    ['$(HOME)/x', '/root/x'],
    ['$$(HOME)', '$(HOME)'],
    ['$$', '$'],
    ['a$', 'a$'],
    ['$(UNDEFINED)', '$(UNDEFINED)'],
    ['$(HOME', '$(HOME'],
    ['$x', '$x'],
  ])('expands %p to %p', (input, expected) => {
    expect(expandLikeKubelet(input, VARIABLES)).toBe(expected);
  });
});

describe('escapeForKubelet', () => {
  it.each([
    ['plain text', 'plain text'],
    ['$(HOME)', '$$(HOME)'],
    ['$$(HOME)', '$$$$(HOME)'],
    ['$$', '$$$$'],
    ['trailing $', 'trailing $$'],
    ['$', '$$'],
    ['echo "$GIT_TOKEN"', 'echo "$$GIT_TOKEN"'],
    ['{"price":"$(5)"}', '{"price":"$$(5)"}'],
  ])('escapes %p as %p', (input, expected) => {
    expect(escapeForKubelet(input)).toBe(expected);
  });

  it.each([
    '$(HOME)',
    '$$(HOME)',
    '$$$(HOME)',
    '$(',
    '$)',
    '$',
    '$$',
    '$$$',
    'end with $',
    '$(GIT_TOKEN) and $GIT_TOKEN and ${GIT_TOKEN}',
    '$(EMPTY)$(EMPTY)',
    'unicode ü $(HOME) 😀',
  ])('survives kubelet expansion unchanged: %p', (input) => {
    expect(expandLikeKubelet(escapeForKubelet(input), VARIABLES)).toBe(input);
  });

  it('survives expansion of random dollar-heavy strings', () => {
    const alphabet = ['$', '(', ')', 'H', 'O', 'M', 'E', 'x', ' ', '$', '$'];
    for (let round = 0; round < 2000; round++) {
      let input = '';
      const length = randomInt(12);
      for (let index = 0; index < length; index++) {
        input += alphabet[randomInt(alphabet.length)];
      }
      expect(expandLikeKubelet(escapeForKubelet(input), VARIABLES)).toBe(input);
    }
  });

  it('would be changed by the kubelet without escaping', () => {
    expect(expandLikeKubelet('$(HOME)', VARIABLES)).not.toBe('$(HOME)');
    expect(expandLikeKubelet('$$', VARIABLES)).not.toBe('$$');
  });
});
