import type { Config } from '../config/load.ts'
import type { KeyProvider } from './key-provider.ts'
import { LocalKeyProvider } from './local-provider.ts'
import { ensureLocalKeyfile, keyfilePath } from './keyfile.ts'

export interface OpenKeyProviderOptions {
  /** Create DATA_DIR/master.key when neither it nor SEALPOST_MASTER_KEY exists (zero-config quickstart). Default true. */
  createKeyfile?: boolean
  /** Boot notices (a freshly created keyfile must be backed up). */
  warn?: (message: string) => void
}

/**
 * The configured KeyProvider. `local`: SEALPOST_MASTER_KEY if set, else the
 * keyfile (refused if readable by group/others). `pkcs11`: the HSM token.
 */
export async function openKeyProvider(config: Pick<Config, 'dataDir' | 'crypto'>, opts: OpenKeyProviderOptions = {}): Promise<KeyProvider> {
  const { crypto } = config
  if (crypto.provider === 'pkcs11') {
    const { Pkcs11KeyProvider } = await import('./pkcs11-provider.ts')
    return Pkcs11KeyProvider.open({
      library: crypto.pkcs11.library!, tokenLabel: crypto.pkcs11.tokenLabel!, pin: crypto.pkcs11.pin!, keyLabel: crypto.pkcs11.keyLabel,
    })
  }
  if (crypto.masterKey) return new LocalKeyProvider({ kind: 'env', value: crypto.masterKey })
  if (opts.createKeyfile === false) return new LocalKeyProvider({ kind: 'file', path: keyfilePath(config.dataDir) })
  const { path, created } = ensureLocalKeyfile(config.dataDir)
  if (created) {
    opts.warn?.(`created ${path} (mode 0600) holding the key-encryption key. Back it up apart from the database: without it nothing encrypted can be read. For production set SEALPOST_KEY_PROVIDER=pkcs11 or SEALPOST_MASTER_KEY.`)
  }
  return new LocalKeyProvider({ kind: 'file', path })
}
