/** A Map that forgets its least recently used entry past `max` (per-subject keys are unbounded otherwise). */
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

  delete(key: K): void { this.#map.delete(key) }
  deleteWhere(pred: (key: K) => boolean): void { for (const k of [...this.#map.keys()]) if (pred(k)) this.#map.delete(k) }
  clear(): void { this.#map.clear() }
  get size(): number { return this.#map.size }
}
