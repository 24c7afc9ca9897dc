import { InputSchemaCompiler, InputSchemaError, describeSchemaErrors } from './input-schema';

describe('InputSchemaCompiler', () => {
  const compiler = new InputSchemaCompiler();

  it('accepts nullable from OpenAPI 3', () => {
    const validate = compiler.compile({
      type: 'object',
      properties: { vlan: { type: 'integer', nullable: true } },
    });
    expect(validate({ vlan: null })).toBe(true);
    expect(validate({ vlan: 'ten' })).toBe(false);
  });

  it('enforces standard formats', () => {
    const validate = compiler.compile({
      type: 'object',
      properties: { host: { type: 'string', format: 'ipv4' } },
    });
    expect(validate({ host: '192.0.2.1' })).toBe(true);
    expect(validate({ host: 'not-an-address' })).toBe(false);
  });

  it('tolerates OpenAPI annotations', () => {
    expect(() =>
      compiler.compile({
        type: 'object',
        example: { a: 1 },
        externalDocs: { url: 'https://example.com' },
      }),
    ).not.toThrow();
  });

  it.each([
    ['an invalid type', { type: 'objec' }, /schema does not compile: schema is invalid/],
    [
      'an unknown keyword',
      { type: 'object', properties: { a: { type: 'string', colour: 'red' } } },
      /unknown keyword: "colour"/,
    ],
    ['an unknown format', { type: 'string', format: 'postcode' }, /unknown format "postcode"/],
    ['an unresolvable reference', { $ref: '#/definitions/missing' }, /can't resolve reference/],
    ['a non-object schema', ['type', 'object'], /schema must be a JSON object/],
    ['a string schema', 'object', /schema must be a JSON object/],
  ])('rejects %s', (_case, schema, message) => {
    expect(() => compiler.compile(schema)).toThrow(InputSchemaError);
    expect(() => compiler.compile(schema)).toThrow(message);
  });

  it('reuses a compiled schema with the same text', () => {
    const schema = { type: 'object', required: ['name'] };
    expect(compiler.compile(schema)).toBe(compiler.compile({ ...schema }));
  });

  it('reuses a stored schema by its text', () => {
    const schema = { type: 'object', required: ['host'] };
    const compiled = compiler.compile(schema);

    expect(compiler.compileStored(JSON.stringify(schema))).toBe(compiled);
  });

  it('compiles a stored schema on a cache miss', () => {
    const validate = compiler.compileStored('{"type":"object","required":["port"]}');

    expect(validate({ port: 22 })).toBe(true);
    expect(validate({})).toBe(false);
  });

  it('keeps compiling after a rejected schema', () => {
    expect(() => compiler.compile({ type: 'objec' })).toThrow(InputSchemaError);
    expect(compiler.compile({ type: 'object' })({})).toBe(true);
  });
});

describe('describeSchemaErrors', () => {
  it('names the path and the unknown field', () => {
    const validate = new InputSchemaCompiler().compile({
      type: 'object',
      properties: { count: { type: 'integer' } },
      required: ['count'],
      additionalProperties: false,
    });
    validate({ count: 'x', extra: 1 });
    expect(describeSchemaErrors(validate.errors)).toEqual([
      "(body): must NOT have additional properties 'extra'",
      '/count: must be integer',
    ]);
  });
});
