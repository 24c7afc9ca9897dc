/** Lets synchronous launches wait for a job to end in this process. */
export class JobWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves true when the job ends within the timeout, false otherwise. */
  wait(jobId: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiters = this.waiters.get(jobId) ?? new Set();
      this.waiters.set(jobId, waiters);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(done);
        if (waiters.size === 0) {
          this.waiters.delete(jobId);
        }
        resolve(false);
      }, timeoutMs);
      waiters.add(done);
    });
  }

  notifyEnded(jobId: string): void {
    const waiters = this.waiters.get(jobId);
    this.waiters.delete(jobId);
    waiters?.forEach((done) => done());
  }
}
