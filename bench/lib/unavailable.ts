/** Thrown by a scenario whose pieces have not landed yet: reported, never a failure. */
export class Unavailable extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'Unavailable'
  }
}
