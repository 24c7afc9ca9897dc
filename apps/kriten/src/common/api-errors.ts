import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiPayloadTooLargeResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

/** The body of every error response. */
export class ErrorDto {
  @ApiProperty({ description: 'The HTTP status code, repeated', example: 404 })
  statusCode: number;

  @ApiProperty({ description: "The status's reason phrase", example: 'Not Found' })
  error: string;

  @ApiProperty({
    description: 'What went wrong, with the value involved and what to do next',
    example: "task 'backup' not found",
  })
  message: string;

  @ApiPropertyOptional({
    description: 'One line per problem, when there are several',
    type: [String],
  })
  details?: string[];
}

/** Documents the errors that every authenticated route can return. */
export const ApiCommonErrors = () =>
  applyDecorators(
    ApiBadRequestResponse({ type: ErrorDto, description: 'Invalid input' }),
    ApiUnauthorizedResponse({ type: ErrorDto, description: 'Missing or invalid credentials' }),
    ApiForbiddenResponse({ type: ErrorDto, description: 'The caller lacks the permission' }),
    ApiNotFoundResponse({ type: ErrorDto, description: 'The named object does not exist' }),
    ApiPayloadTooLargeResponse({
      type: ErrorDto,
      description: 'The body exceeds KRITEN_MAX_BODY_BYTES',
    }),
  );

export const ApiConflictError = (description: string) =>
  ApiConflictResponse({ type: ErrorDto, description });

export const ApiSchemaRejectedError = () =>
  ApiUnprocessableEntityResponse({
    type: ErrorDto,
    description: "The body does not match the task's input schema",
  });
