/**
 * Returns the name of a group from its DN: the value of the first RDN (RFC 4514), which is the
 * CN for Active Directory and groupOfNames groups. Undefined when the DN does not parse.
 */
export function groupNameOf(dn: string): string | undefined {
  const rdn = firstRdn(dn);
  if (rdn === undefined) {
    return undefined;
  }
  // A multi-valued RDN such as `cn=ops+ou=it`: prefer the CN.
  const pairs = splitUnescaped(rdn, '+').map(parseAttributeValue);
  if (pairs.some((pair) => pair === undefined)) {
    return undefined;
  }
  const parsed = pairs as Array<{ type: string; value: string }>;
  const chosen = parsed.find((pair) => pair.type.toLowerCase() === 'cn') ?? parsed[0];
  return chosen.value === '' ? undefined : chosen.value;
}

function firstRdn(dn: string): string | undefined {
  const [first] = splitUnescaped(dn, ',');
  return first === undefined || first.trim() === '' ? undefined : first;
}

/** Splits at each separator that no backslash escapes. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '\\' && index + 1 < text.length) {
      current += char + text[index + 1];
      index++;
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function parseAttributeValue(pair: string): { type: string; value: string } | undefined {
  const equals = pair.indexOf('=');
  if (equals <= 0) {
    return undefined;
  }
  const type = pair.slice(0, equals).trim();
  const value = unescapeValue(pair.slice(equals + 1).trim());
  return value === undefined ? undefined : { type, value };
}

/** Decodes RFC 4514 escapes: `\,` style pairs and `\XX` hex bytes (UTF-8). */
function unescapeValue(raw: string): string | undefined {
  if (raw.startsWith('#')) {
    // A BER-encoded value: not a name a person would bind roles to.
    return undefined;
  }
  const bytes: number[] = [];
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index];
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const hex = raw.slice(index + 1, index + 3);
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      index += 2;
    } else if (index + 1 < raw.length) {
      bytes.push(...Buffer.from(raw[index + 1], 'utf8'));
      index++;
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
