import { Type } from 'typebox'
import { ID_PATTERN } from '../../core/ids.ts'
import { MAX_PASSWORD_LENGTH } from '../password.ts'

const strict = { additionalProperties: false } as const
const Email = Type.String({ minLength: 3, maxLength: 254 })
/** Length is checked by the policy; the schema only bounds the work. */
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH })
const Token = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })
const B64u = Type.String({ pattern: '^[A-Za-z0-9_-]*={0,2}$', maxLength: 16_384 })
const OrgId = Type.String({ pattern: ID_PATTERN })

export const LoginBody = Type.Object({ email: Email, password: Password, orgId: Type.Optional(OrgId) }, strict)
export const TotpBody = Type.Object({ code: Type.String({ pattern: '^\\d{6}$' }) }, strict)
export const RecoveryBody = Type.Object({ code: Type.String({ minLength: 16, maxLength: 32 }) }, strict)
export const OrgSwitchBody = Type.Object({ orgId: OrgId }, strict)
export const TokenBody = Type.Object({ token: Token }, strict)

/** navigator.credentials.get() as JSON (WebAuthn Level 3 toJSON()). */
export const AssertionBody = Type.Object({
  id: B64u, rawId: B64u, type: Type.Literal('public-key'),
  authenticatorAttachment: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')])),
  clientExtensionResults: Type.Object({}, { additionalProperties: true, maxProperties: 16 }),
  response: Type.Object({ clientDataJSON: B64u, authenticatorData: B64u, signature: B64u, userHandle: Type.Optional(B64u) }, strict),
}, strict)

/** navigator.credentials.create() as JSON, plus a name for the passkey. */
export const RegistrationBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  credential: Type.Object({
    id: B64u, rawId: B64u, type: Type.Literal('public-key'),
    authenticatorAttachment: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')])),
    clientExtensionResults: Type.Object({}, { additionalProperties: true, maxProperties: 16 }),
    response: Type.Object({
      clientDataJSON: B64u, attestationObject: B64u,
      authenticatorData: Type.Optional(B64u), publicKey: Type.Optional(B64u), publicKeyAlgorithm: Type.Optional(Type.Integer()),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 })),
    }, strict),
  }, strict),
}, strict)

export const ProfileBody = Type.Object({ displayName: Type.String({ minLength: 1, maxLength: 100 }) }, strict)
export const PasswordChangeBody = Type.Object({ currentPassword: Password, newPassword: Password }, strict)
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$' }) }, strict)
export const UserIdParams = Type.Object({ userId: Type.String({ pattern: ID_PATTERN }) }, strict)
export const RevokeAllBody = Type.Object({ keepCurrent: Type.Optional(Type.Boolean()) }, strict)

/** A built-in role name or a custom role id. */
const Role = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' })
export const RoleBody = Type.Object({ role: Role }, strict)
export const InviteBody = Type.Object({ email: Email, role: Role }, strict)
export const AcceptBody = Type.Object({
  token: Token,
  password: Type.Optional(Password),
  displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
}, strict)
export const PolicyBody = Type.Object({ requireMfa: Type.Boolean() }, strict)

const Conditions = Type.Union([Type.Null(), Type.Object({
  ipRanges: Type.Optional(Type.Array(Type.String({ minLength: 2, maxLength: 64 }), { minItems: 1, maxItems: 50 })),
  timeWindows: Type.Optional(Type.Array(Type.Object({
    days: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7 }),
    start: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }),
    end: Type.String({ pattern: '^([01]\\d|2[0-4]):[0-5]\\d$' }),
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
  }, strict), { minItems: 1, maxItems: 20 })),
  environments: Type.Optional(Type.Array(Type.Union([Type.Literal('live'), Type.Literal('test')]), { minItems: 1, maxItems: 2 })),
}, strict)])
const RoleName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 _.-]*$' })
const Scopes = Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 64 })
export const CreateRoleBody = Type.Object({ name: RoleName, description: Type.Optional(Type.String({ maxLength: 500 })), scopes: Scopes, conditions: Type.Optional(Conditions) }, strict)
export const UpdateRoleBody = Type.Object({ name: Type.Optional(RoleName), description: Type.Optional(Type.String({ maxLength: 500 })), scopes: Type.Optional(Scopes), conditions: Type.Optional(Conditions) }, strict)

/** Responses that establish a session: the token is in the cookie, never here. */
export const SignedInView = Type.Object({
  next: Type.Union([Type.Literal('mfa'), Type.Literal('password'), Type.Literal('enrol'), Type.Literal('full')]),
  methods: Type.Array(Type.String()),
  orgId: Type.Union([Type.String(), Type.Null()]),
  csrfToken: Type.String(),
  recoveryCodesLeft: Type.Optional(Type.Integer()),
}, strict)
