/**
 * Expands `$(NAME)` references the way the kubelet does for env values, command and args, as in
 * k8s.io/kubernetes third_party/forked/golang/expansion. A defined name becomes its value and an
 * undefined one stays as written. `$$` becomes `$`. A `$(` without a closing `)`, or a `$`
 * before any other character, is copied unchanged.
 */
export function expandReferences(
  input: string,
  lookup: (name: string) => string | undefined,
): string {
  let output = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) {
      continue;
    }
    output += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      output += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close === -1) {
        output += '$(';
      } else {
        const name = rest.slice(1, close);
        output += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else {
      output += `$${rest[0]}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return output + input.slice(checkpoint);
}
