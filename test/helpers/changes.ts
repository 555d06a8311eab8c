/**
 * Waiting on a condition that code in the test itself changes, without polling on a timer: the
 * code that changes it calls `notify()`, and `until(check)` settles once `check()` holds, looked at
 * again after each change.
 */
export function changes() {
  const waiting = new Set<() => void>();
  return {
    notify(): void {
      for (const look of [...waiting]) look();
    },
    until(check: () => boolean): Promise<void> {
      return new Promise((resolve) => {
        const look = () => {
          if (!check()) return;
          waiting.delete(look);
          resolve();
        };
        waiting.add(look);
        look();
      });
    },
  };
}
