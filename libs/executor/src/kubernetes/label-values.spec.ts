import { isValidLabelValue, MAX_LABEL_VALUE_LENGTH, toLabelValue } from './label-values';

describe('toLabelValue', () => {
  it.each(['root', 'ada.lovelace', 'job_runner-1', 'a', ''])('keeps valid value %p', (value) => {
    expect(toLabelValue(value)).toBe(value);
  });

  it.each([
    'ada@example.com',
    'CORP\\ada',
    '-leading-dash',
    'trailing.',
    'space in name',
    'üser',
    'x'.repeat(64),
    '@@@',
    'a'.repeat(200) + '@example.com',
  ])('turns %p into a valid label value', (value) => {
    const label = toLabelValue(value);
    expect(isValidLabelValue(label)).toBe(true);
    expect(label.length).toBeLessThanOrEqual(MAX_LABEL_VALUE_LENGTH);
  });

  it('keeps the readable part of a user name', () => {
    expect(toLabelValue('ada@example.com')).toMatch(/^ada-example.com-[0-9a-f]{10}$/);
    expect(toLabelValue('CORP\\ada')).toMatch(/^CORP-ada-[0-9a-f]{10}$/);
  });

  it('gives different names different values', () => {
    expect(toLabelValue('ada@example.com')).not.toBe(toLabelValue('ada#example.com'));
    expect(toLabelValue('x'.repeat(64))).not.toBe(toLabelValue('x'.repeat(65)));
  });

  it('gives the same name the same value', () => {
    expect(toLabelValue('CORP\\ada')).toBe(toLabelValue('CORP\\ada'));
  });

  it('uses only the hash when nothing readable is left', () => {
    expect(toLabelValue('@@@')).toMatch(/^[0-9a-f]{10}$/);
  });
});
