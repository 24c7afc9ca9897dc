import type { Json } from './store';

/** Which pods a scenario applies to; every given condition must hold. */
export interface PodMatch {
  /** The pod's Job, from its `batch.kubernetes.io/job-name` label. */
  jobName?: string;
  /** Labels that the pod must carry with these values. */
  labels?: Record<string, string>;
  /** A container image; for image pull errors only containers with this image fail. */
  image?: string;
  /** How many pods the scenario applies to before it is used up; unlimited when absent. */
  times?: number;
}

/** A fault or delay that the fake kubelet applies to matching pods. */
export type PodScenario = PodMatch &
  (
    | { effect: 'imagePullError' }
    | { effect: 'oomKill'; afterMilliseconds?: number }
    | { effect: 'slowStart'; delayMilliseconds: number }
  );

/** The scenarios set for a test, consumed as pods are created. */
export class ScenarioRegistry {
  private scenarios: PodScenario[] = [];

  add(scenario: PodScenario): void {
    this.scenarios.push({ ...scenario });
  }

  clear(): void {
    this.scenarios = [];
  }

  /** Takes every scenario that matches a new pod, counting down their use. */
  takeFor(pod: Json): PodScenario[] {
    const labels = ((pod.metadata as Json).labels ?? {}) as Record<string, string>;
    const images = [
      ...(((pod.spec as Json).initContainers as Json[] | undefined) ?? []),
      ...(((pod.spec as Json).containers as Json[] | undefined) ?? []),
    ].map((container) => container.image);
    const matched: PodScenario[] = [];
    for (const scenario of this.scenarios) {
      if (scenario.times !== undefined && scenario.times <= 0) {
        continue;
      }
      if (
        scenario.jobName !== undefined &&
        labels['batch.kubernetes.io/job-name'] !== scenario.jobName
      ) {
        continue;
      }
      if (
        scenario.labels !== undefined &&
        !Object.entries(scenario.labels).every(([key, value]) => labels[key] === value)
      ) {
        continue;
      }
      if (scenario.image !== undefined && !images.includes(scenario.image)) {
        continue;
      }
      if (scenario.times !== undefined) {
        scenario.times--;
      }
      matched.push(scenario);
    }
    return matched;
  }
}
