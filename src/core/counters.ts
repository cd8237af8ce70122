/** Envoy-style per-decision counters, one set per stage and route. */
export const DECISIONS = ['evaluated', 'allowed', 'denied', 'would_deny', 'errored'] as const;
export type Decision = (typeof DECISIONS)[number];

export interface DecisionCounters {
  inc(stage: string, route: string, decision: Decision): void;
  get(stage: string, route: string, decision: Decision): number;
  /** Every counter, for /metrics and tests. */
  snapshot(): Array<{ stage: string; route: string; decision: Decision; value: number }>;
}

export function createDecisionCounters(): DecisionCounters {
  const values = new Map<string, number>();
  const key = (stage: string, route: string, decision: Decision) => `${stage}\u0000${route}\u0000${decision}`;
  return {
    inc(stage, route, decision) {
      const k = key(stage, route, decision);
      values.set(k, (values.get(k) ?? 0) + 1);
    },
    get(stage, route, decision) {
      return values.get(key(stage, route, decision)) ?? 0;
    },
    snapshot() {
      return [...values].map(([k, value]) => {
        const [stage, route, decision] = k.split('\u0000') as [string, string, Decision];
        return { stage, route, decision, value };
      });
    },
  };
}
