import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { Observable, tap } from 'rxjs';
import { resultIdOf } from './audit-route';

/** The id that a write's response named, such as a started job's, kept for its audit record. */
export const resultIds = new WeakMap<Request, string>();

/** Notes the id of the object that a successful write returns. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    if (request.method === 'GET' || request.method === 'HEAD') {
      return next.handle();
    }
    return next.handle().pipe(
      tap((result) => {
        const id = resultIdOf(result);
        if (id !== undefined) {
          resultIds.set(request, id);
        }
      }),
    );
  }
}
