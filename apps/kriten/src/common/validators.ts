import { ValidationOptions, registerDecorator } from 'class-validator';
import { gitRefProblem, nameProblem } from './names';
import { gitUrlProblem } from './git-url';
import { resourcesProblem } from './resources';

function fromProblem(check: (value: unknown) => string | null, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => check(value) === null,
        defaultMessage: (args) => check(args?.value) ?? 'invalid value',
      },
    });
}

/** A runner, task or cron job name: an RFC 1123 label short enough for job ids. */
export const IsResourceName = (options?: ValidationOptions) => fromProblem(nameProblem, options);

/** A valid git branch name. */
export const IsGitBranch = (options?: ValidationOptions) => fromProblem(gitRefProblem, options);

/** A git remote URL Kriten can fetch from. */
export const IsGitUrl = (options?: ValidationOptions) => fromProblem(gitUrlProblem, options);

/** CPU and memory requests and limits, each a Kubernetes quantity. */
export const IsResourceRequirements = (options?: ValidationOptions) =>
  fromProblem((value) => resourcesProblem('resources', value), options);
