import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** A schema that does not compile; the message names the problem. */
export class InputSchemaError extends Error {}

/** Compiles task input schemas (OpenAPI 3 schema objects) and caches them by their text. */
export class InputSchemaCompiler {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly cacheSize = 500) {
    this.ajv = new Ajv({
      allErrors: true,
      strict: true,
      strictTypes: false,
      strictRequired: false,
      discriminator: true,
      // OpenAPI annotations that JSON Schema validators do not know.
      keywords: ['example', 'xml', 'externalDocs'],
      logger: {
        log: () => undefined,
        // Ajv only logs unknown formats; a schema that cannot be enforced must be rejected.
        warn: (...message: unknown[]) => {
          throw new InputSchemaError(message.map(String).join(' '));
        },
        error: () => undefined,
      },
    });
    addFormats(this.ajv);
  }

  /** Returns the validator of a schema stored as JSON text, parsing the text only on a cache miss. */
  compileStored(text: string): ValidateFunction {
    return this.cache.get(text) ?? this.compile(JSON.parse(text));
  }

  /** Compiles a schema; throws InputSchemaError naming the problem when it does not compile. */
  compile(schema: unknown): ValidateFunction {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      throw new InputSchemaError('schema must be a JSON object (an OpenAPI 3 schema object)');
    }
    const text = JSON.stringify(schema);
    const cached = this.cache.get(text);
    if (cached) {
      return cached;
    }

    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(structuredClone(schema));
    } catch (error) {
      throw new InputSchemaError(`schema does not compile: ${(error as Error).message}`);
    } finally {
      this.ajv.removeSchema();
    }
    if (this.cache.size >= this.cacheSize) {
      this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(text, validate);
    return validate;
  }
}

/** Formats ajv's errors as `/path: message` lines, `(body)` for the root. */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const path = error.instancePath || '(body)';
    const extra =
      error.keyword === 'additionalProperties'
        ? ` '${String(error.params.additionalProperty)}'`
        : '';
    return `${path}: ${error.message ?? 'is invalid'}${extra}`;
  });
}
