/** Smallest value a {@link Histogram} tells apart from zero, in milliseconds. */
const MIN_VALUE = 0.001;
/** Relative width of a bucket: percentiles are exact to within 1 %. */
const PRECISION = 0.01;
const LOG_BASE = Math.log1p(PRECISION);
/** Buckets up to about ten minutes. */
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_VALUE) / LOG_BASE) + 2;

/** A histogram as it crosses process boundaries: sparse bucket counts and exact extremes. */
export interface HistogramData {
  buckets: Array<[number, number]>;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Percentiles of a latency distribution, in milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function bucketOf(value: number): number {
  if (value <= MIN_VALUE) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(value / MIN_VALUE) / LOG_BASE));
}

function valueOf(bucket: number): number {
  if (bucket === 0) return MIN_VALUE;
  // The middle of the bucket, geometrically.
  return MIN_VALUE * Math.exp((bucket - 0.5) * LOG_BASE);
}

/**
 * A log-bucketed latency histogram (1 % resolution) that merges across
 * worker processes, so no sample list has to travel over IPC.
 */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  record(value: number): void {
    const v = Number.isFinite(value) && value > 0 ? value : 0;
    this.#counts[bucketOf(v)]! += 1;
    this.#count += 1;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  merge(data: HistogramData): this {
    for (const [bucket, n] of data.buckets) this.#counts[bucket]! += n;
    this.#count += data.count;
    this.#sum += data.sum;
    if (data.count > 0) {
      this.#min = Math.min(this.#min, data.min);
      this.#max = Math.max(this.#max, data.max);
    }
    return this;
  }

  /** The value below which `p` percent of the samples fall (0 when empty). */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    if (p >= 100) return this.#max;
    const rank = Math.ceil((p / 100) * this.#count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, valueOf(i)));
    }
    return this.#max;
  }

  summary(): LatencySummary {
    return {
      count: this.#count,
      mean: this.#count === 0 ? 0 : this.#sum / this.#count,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.#count === 0 ? 0 : this.#max,
    };
  }

  toData(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]! > 0) buckets.push([i, this.#counts[i]!]);
    return { buckets, count: this.#count, sum: this.#sum, min: this.#count === 0 ? 0 : this.#min, max: this.#max };
  }

  static from(...data: HistogramData[]): Histogram {
    const h = new Histogram();
    for (const d of data) h.merge(d);
    return h;
  }
}
