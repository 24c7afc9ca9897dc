import { ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError } from './domain-error';

/**
 * Validates bodies and queries against their DTO classes. Rejections carry one readable
 * `message` string, with one line per problem in `details`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const problems = errors.flatMap((error) => describe(error, ''));
      return new DomainError('invalid_input', problems.join('; '), problems);
    },
  });
}

const TYPE_CONSTRAINTS = ['isString', 'isBoolean', 'isInt', 'isObject', 'isIn'];

function describe(error: ValidationError, parent: string): string[] {
  const path = parent ? `${parent}.${error.property}` : error.property;
  if (error.constraints) {
    if (error.value === undefined && !('whitelistValidation' in error.constraints)) {
      return [`${path} is required`];
    }
    if ('whitelistValidation' in error.constraints) {
      return [`unknown field '${path}'`];
    }
    // One message per field: a wrong type explains the other failed constraints too.
    const typeCheck = TYPE_CONSTRAINTS.find((name) => name in error.constraints!);
    return [error.constraints[typeCheck ?? Object.keys(error.constraints)[0]]];
  }
  return (error.children ?? []).flatMap((child) => describe(child, path));
}
