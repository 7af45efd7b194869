import { generateSecret, generateURI, verify } from 'otplib'

/**
 * TOTP (RFC 6238) over otplib: SHA-1, 6 digits, 30 s steps (what authenticator
 * apps implement). One step of clock drift either way is accepted; a code whose
 * time step is at or before the last accepted one is a replay and is refused.
 */
export const TOTP_PERIOD_S = 30
const DRIFT_S = TOTP_PERIOD_S

export function newTotpSecret(): string {
  return generateSecret({ length: 20 })
}

export function totpUri(secret: string, issuer: string, label: string): string {
  return generateURI({ issuer, label, secret })
}

export type TotpCheck = { ok: true; timeStep: number } | { ok: false; reason: 'invalid' | 'replayed' }

export async function checkTotp(secret: string, code: string, nowMs: number, lastTimeStep: number | null): Promise<TotpCheck> {
  if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'invalid' }
  const epoch = Math.floor(nowMs / 1000)
  const fresh = await verify({ secret, token: code, epoch, epochTolerance: DRIFT_S, ...(lastTimeStep !== null ? { afterTimeStep: lastTimeStep } : {}) })
  if (fresh.valid && 'timeStep' in fresh) return { ok: true, timeStep: fresh.timeStep }
  if (lastTimeStep === null) return { ok: false, reason: 'invalid' }
  // Distinguish a replay from a wrong code for the audit log only (the caller sees one message).
  const any = await verify({ secret, token: code, epoch, epochTolerance: DRIFT_S })
  return { ok: false, reason: any.valid ? 'replayed' : 'invalid' }
}
