/**
 * A Map that forgets its least recently used entry past `max`, so per-subject
 * state (unwrapped data keys, per-IP and per-key detector baselines) cannot grow
 * without bound under a flood of distinct subjects.
 */
export class LruMap<K, V> {
  readonly #max: number
  readonly #map = new Map<K, V>()
  constructor(max: number) { this.#max = max }

  get(key: K): V | undefined {
    const v = this.#map.get(key)
    if (v !== undefined) { this.#map.delete(key); this.#map.set(key, v) }
    return v
  }

  set(key: K, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K)
  }

  getOrCreate(key: K, make: () => V): V {
    let v = this.get(key)
    if (v === undefined) { v = make(); this.set(key, v) }
    return v
  }

  delete(key: K): void { this.#map.delete(key) }
  deleteWhere(pred: (key: K) => boolean): void { for (const k of [...this.#map.keys()]) if (pred(k)) this.#map.delete(k) }
  clear(): void { this.#map.clear() }
  get size(): number { return this.#map.size }
}
