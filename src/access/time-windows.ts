/**
 * Time-window conditions: "weekdays 09:00-18:00 Europe/Paris".
 * - days: 0 = Sunday ... 6 = Saturday (as Date#getDay and cron), in the window's time zone.
 * - start inclusive, end exclusive, `HH:MM` 24-hour; end may be `24:00`.
 * - start > end spans midnight: `22:00-06:00` on Friday covers Friday 22:00 to Saturday 06:00.
 * - Time zones are IANA names resolved by Intl (DST handled by the platform's tz database).
 */
export interface TimeWindow { days: number[]; start: string; end: string; timeZone: string }

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/
const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    formatters.set(timeZone, f)
  }
  return f
}

export function isTimeZone(tz: string): boolean {
  if (tz.length > 64) return false
  try { formatter(tz); return true } catch { return false }
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/** Why a window is invalid (for a 400 on key creation), or null. */
export function windowProblem(w: TimeWindow): string | null {
  if (!HHMM.test(w.start) || w.start === '24:00') return 'start must be HH:MM (00:00-23:59)'
  if (!HHMM.test(w.end)) return 'end must be HH:MM (00:00-24:00)'
  if (w.start === w.end) return 'start and end must differ'
  if (!w.days.length || w.days.some((d) => !Number.isInteger(d) || d < 0 || d > 6)) return 'days must be 0 (Sunday) to 6 (Saturday)'
  if (!isTimeZone(w.timeZone)) return 'timeZone must be an IANA time zone name'
  return null
}

/** Local weekday and minute of the day of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  let day = 0, hour = 0, minute = 0
  for (const p of formatter(timeZone).formatToParts(at)) {
    if (p.type === 'weekday') day = WEEKDAY[p.value]
    else if (p.type === 'hour') hour = Number(p.value)
    else if (p.type === 'minute') minute = Number(p.value)
  }
  return { day, minute: hour * 60 + minute }
}

export function inWindow(at: Date, w: TimeWindow): boolean {
  const { day, minute } = localTime(at, w.timeZone)
  const start = minutes(w.start)
  const end = minutes(w.end)
  if (start < end) return w.days.includes(day) && minute >= start && minute < end
  // Spans midnight: the late part belongs to `day`, the early part to the day before.
  return (w.days.includes(day) && minute >= start) || (w.days.includes((day + 6) % 7) && minute < end)
}

/** True when every instant `inner` allows, `outer` allows too (same zone; otherwise we cannot tell and say no). */
export function windowWithin(inner: TimeWindow, outer: TimeWindow): boolean {
  if (inner.timeZone !== outer.timeZone) return false
  const [is, ie, os, oe] = [minutes(inner.start), minutes(inner.end), minutes(outer.start), minutes(outer.end)]
  if (is >= ie || os >= oe) return inner.start === outer.start && inner.end === outer.end && inner.days.every((d) => outer.days.includes(d))
  return is >= os && ie <= oe && inner.days.every((d) => outer.days.includes(d))
}
