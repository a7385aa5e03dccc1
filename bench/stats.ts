/** Median and spread of repeated measurements, and the ratio to an anchor measured in the same run. */
export interface Summary { median: number, min: number, max: number, p90: number, p99: number, n: number }

export function summarize (values: number[]): Summary {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, p90: NaN, p99: NaN, n: 0 }
  const s = [...values].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]
  const median = s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  return { median, min: s[0], max: s[s.length - 1], p90: at(0.9), p99: at(0.99), n: s.length }
}

export function ratio (value: Summary, anchor: Summary): number {
  return value.median / anchor.median
}
