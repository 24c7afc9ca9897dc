import {
  effectiveResources,
  parseQuantity,
  requestAboveLimitProblem,
  resourcesProblem,
} from './resources';

describe('parseQuantity', () => {
  it.each([
    ['1', 1],
    ['500m', 0.5],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['2.', 2],
    ['0', 0],
    ['1k', 1000],
    ['1Ki', 1024],
    ['256Mi', 256 * 2 ** 20],
    ['1G', 1e9],
    ['1Gi', 2 ** 30],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['2e+2', 200],
    ['1Ei', 2 ** 60],
  ])('parses %s', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it.each([
    '',
    '-1',
    '+1',
    'abc',
    '1 Gi',
    '1gi',
    '1KI',
    '1Kib',
    '1.5.0',
    '.',
    'm',
    '1e',
    '1e1.5',
    '0x10',
    ' 1',
    '1'.repeat(65),
  ])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe('resourcesProblem', () => {
  it('accepts requests and limits', () => {
    expect(
      resourcesProblem('resources', {
        requests: { cpu: '100m', memory: '64Mi' },
        limits: { cpu: '1', memory: '1Gi' },
      }),
    ).toBeNull();
  });

  it('accepts an empty object', () => {
    expect(resourcesProblem('resources', {})).toBeNull();
  });

  it('accepts only limits', () => {
    expect(resourcesProblem('resources', { limits: { memory: '128Mi' } })).toBeNull();
  });

  it.each([
    [null, 'resources must be an object'],
    [[], 'resources must be an object'],
    ['1Gi', 'resources must be an object'],
    [{ request: {} }, "resources.request is not allowed: use 'requests' and 'limits'"],
    [{ limits: [] }, 'resources.limits must be an object'],
    [{ limits: { gpu: '1' } }, "resources.limits.gpu is not allowed: use 'cpu' and 'memory'"],
    [{ requests: { cpu: 1 } }, 'resources.requests.cpu must be a string'],
    [{ requests: { memory: '1 GB' } }, "resources.requests.memory '1 GB' is not a Kubernetes"],
    [{ limits: { cpu: '-1' } }, "resources.limits.cpu '-1' is not a Kubernetes quantity"],
    [
      { requests: { cpu: '2' }, limits: { cpu: '1500m' } },
      "resources: request cpu '2' exceeds limit cpu '1500m'",
    ],
    [
      { requests: { memory: '1Gi' }, limits: { memory: '1G' } },
      "resources: request memory '1Gi' exceeds limit memory '1G'",
    ],
  ])('rejects %j', (value, message) => {
    expect(resourcesProblem('resources', value)).toContain(message);
  });

  it('allows a request equal to the limit', () => {
    expect(
      resourcesProblem('resources', { requests: { cpu: '1000m' }, limits: { cpu: '1' } }),
    ).toBeNull();
  });
});

describe('effectiveResources', () => {
  const runner = {
    requests: { cpu: '100m', memory: '64Mi' },
    limits: { cpu: '1', memory: '256Mi' },
  };

  it('lets each task value win', () => {
    expect(
      effectiveResources(runner, { requests: { cpu: '250m' }, limits: { memory: '1Gi' } }),
    ).toEqual({
      requests: { cpu: '250m', memory: '64Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
  });

  it('keeps runner values without task values', () => {
    expect(effectiveResources(runner, null)).toEqual(runner);
  });

  it('keeps task values without runner values', () => {
    expect(effectiveResources(undefined, { limits: { cpu: '2' } })).toEqual({
      limits: { cpu: '2' },
    });
  });

  it('returns undefined when neither sets any', () => {
    expect(effectiveResources(null, {})).toBeUndefined();
  });

  it('leaves out an empty section', () => {
    expect(effectiveResources({ requests: { cpu: '1' } }, { limits: {} })).toEqual({
      requests: { cpu: '1' },
    });
  });
});

describe('requestAboveLimitProblem', () => {
  it('finds a combined request above the limit', () => {
    const combined = effectiveResources({ limits: { cpu: '1' } }, { requests: { cpu: '2' } });

    expect(requestAboveLimitProblem("task 'build'", combined)).toBe(
      "task 'build': request cpu '2' exceeds limit cpu '1'",
    );
  });

  it('returns null without limits', () => {
    expect(requestAboveLimitProblem('resources', { requests: { cpu: '64' } })).toBeNull();
  });
});
