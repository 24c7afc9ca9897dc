import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { DomainError } from './domain-error';

/**
 * Renames body fields to the DTO's spelling without regard to case, as Kriten's Go decoder
 * matches them: its Netbox plugin sends `giturl` for `gitURL`. Runs before validation.
 */
@Injectable()
export class CaseInsensitiveBodyPipe implements PipeTransform {
  private readonly fieldNames = new WeakMap<object, Map<string, string>>();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' || !metadata.metatype || isPrimitiveType(metadata.metatype)) {
      return value;
    }
    if (value === undefined) {
      return {};
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DomainError('invalid_input', 'request body must be a JSON object');
    }

    const canonical = this.canonicalNames(metadata.metatype);
    const renamed: Record<string, unknown> = {};
    for (const [field, fieldValue] of Object.entries(value)) {
      const name =
        field in renamed || !canonical.has(field.toLowerCase())
          ? field
          : canonical.get(field.toLowerCase())!;
      if (name in renamed) {
        throw new DomainError(
          'invalid_input',
          `field '${field}' is given twice (field names are case-insensitive)`,
        );
      }
      renamed[name] = fieldValue;
    }
    return renamed;
  }

  private canonicalNames(metatype: object): Map<string, string> {
    let names = this.fieldNames.get(metatype);
    if (!names) {
      const properties = getMetadataStorage()
        .getTargetValidationMetadatas(metatype as new () => object, '', true, false)
        .map((entry) => entry.propertyName);
      names = new Map(properties.map((property) => [property.toLowerCase(), property]));
      this.fieldNames.set(metatype, names);
    }
    return names;
  }
}

function isPrimitiveType(metatype: unknown): boolean {
  return [String, Boolean, Number, Array, Object].includes(metatype as never);
}
