import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server'

/**
 * Passkeys / WebAuthn over @simplewebauthn/server. The relying party is this
 * deployment's public URL: its host is the RP ID, its origin the only origin
 * accepted. Attestation is not requested ("none"): we trust the credential, not
 * the device make. As a second factor, user presence suffices (verification preferred).
 */
export interface WebAuthnConfig { rpId: string; rpName: string; origins: string[] }

/** ES256, EdDSA, RS256: what platform authenticators and security keys use. */
const ALGORITHMS = [-7, -8, -257]

export interface StoredPasskey { id: string; public_key: string; counter: number; transports: string }

export function registrationOptions(cfg: WebAuthnConfig, user: { id: string; email: string; display_name: string }, existing: StoredPasskey[]): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: cfg.rpName, rpID: cfg.rpId,
    userName: user.email, userDisplayName: user.display_name || user.email,
    userID: new TextEncoder().encode(user.id),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: JSON.parse(p.transports) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    supportedAlgorithmIDs: ALGORITHMS,
  })
}

export interface NewPasskey { id: string; publicKey: string; counter: number; transports: string[] }

/** Null when the response does not verify (wrong challenge, origin, RP, signature...). */
export async function verifyRegistration(cfg: WebAuthnConfig, response: RegistrationResponseJSON, challenge: string): Promise<NewPasskey | null> {
  try {
    const r = await verifyRegistrationResponse({
      response, expectedChallenge: challenge, expectedOrigin: cfg.origins, expectedRPID: cfg.rpId,
      requireUserVerification: false, supportedAlgorithmIDs: ALGORITHMS,
    })
    if (!r.verified) return null
    const c = r.registrationInfo.credential
    return { id: c.id, publicKey: Buffer.from(c.publicKey).toString('base64url'), counter: c.counter, transports: c.transports ?? response.response.transports ?? [] }
  } catch {
    return null
  }
}

export function authenticationOptions(cfg: WebAuthnConfig, passkeys: StoredPasskey[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: cfg.rpId, userVerification: 'preferred',
    allowCredentials: passkeys.map((p) => ({ id: p.id, transports: JSON.parse(p.transports) })),
  })
}

/** The new signature counter when the assertion verifies, else null (a cloned authenticator's stale counter included). */
export async function verifyAuthentication(cfg: WebAuthnConfig, response: AuthenticationResponseJSON, challenge: string, passkey: StoredPasskey): Promise<number | null> {
  try {
    const r = await verifyAuthenticationResponse({
      response, expectedChallenge: challenge, expectedOrigin: cfg.origins, expectedRPID: cfg.rpId,
      credential: { id: passkey.id, publicKey: Buffer.from(passkey.public_key, 'base64url'), counter: Number(passkey.counter), transports: JSON.parse(passkey.transports) },
      requireUserVerification: false,
    })
    return r.verified ? r.authenticationInfo.newCounter : null
  } catch {
    return null
  }
}

export type { AuthenticationResponseJSON, RegistrationResponseJSON }
