/**
 * A Map that forgets its least recently used entries past `max`, so per-IP and
 * per-key state cannot grow without bound under a flood of distinct subjects.
 */
export class BoundedMap<K, V> {
  readonly #max: number
  readonly #map = new Map<K, V>()
  constructor(max: number) { this.#max = max }

  get(key: K): V | undefined {
    const v = this.#map.get(key)
    if (v !== undefined) { this.#map.delete(key); this.#map.set(key, v) }
    return v
  }

  getOrCreate(key: K, make: () => V): V {
    let v = this.get(key)
    if (v === undefined) {
      v = make()
      this.#map.set(key, v)
      if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K)
    }
    return v
  }

  get size(): number { return this.#map.size }
}
