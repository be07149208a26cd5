import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** `executor-agent/security/`, from both `src/sandbox/container/` and `dist/sandbox/container/`. */
export const SECURITY_DIR = fileURLToPath(new URL('../../../security/', import.meta.url));

/** The AppArmor profile's name, as declared in `security/apparmor-profile`. */
export const APPARMOR_PROFILE = 'crucible-sandbox';

/** The seccomp profile every runc container gets, as the engine wants it (inline JSON). */
export interface SeccompProfile {
  /** Minified JSON, passed as `seccomp=<json>` in SecurityOpt. */
  json: string;
  /** First 12 hex digits of the file's sha256: which version is in force, for `/readyz`. */
  version: string;
}

/**
 * Reads `security/seccomp.json`: an allowlist stricter than Docker's default (see SECURITY.md).
 * A missing or malformed profile throws: running without it would silently weaken the sandbox.
 */
export async function loadSeccompProfile(dir: string = SECURITY_DIR): Promise<SeccompProfile> {
  const raw = await readFile(`${dir}/seccomp.json`);
  const parsed = JSON.parse(raw.toString('utf8')) as { defaultAction?: unknown; syscalls?: unknown };
  if (parsed.defaultAction !== 'SCMP_ACT_ERRNO' || !Array.isArray(parsed.syscalls)) {
    throw new Error(`${dir}/seccomp.json: must be an allowlist (defaultAction SCMP_ACT_ERRNO) with syscalls`);
  }
  return { json: JSON.stringify(parsed), version: createHash('sha256').update(raw).digest('hex').slice(0, 12) };
}

/** Whether containers get the Crucible AppArmor profile, and why (or why not). */
export type AppArmorStatus =
  | { state: 'applied'; profile: string }
  | { state: 'unavailable'; reason: string };

export interface AppArmorFacts {
  /** The engine's `SecurityOptions` from `GET /info` (lists `name=apparmor` when the host has it). */
  engineSecurityOptions: readonly string[];
  /** The host kernel's loaded profiles (`/sys/kernel/security/apparmor/profiles`), or undefined if unreadable. */
  loadedProfiles: string | undefined;
}

/**
 * Decides whether to apply the AppArmor profile. It is applied only when the engine runs with
 * AppArmor and the profile is loaded into the host kernel (`apparmor_parser -r`, done by the
 * launcher as root); asking the engine for a profile that is not loaded would fail every run.
 * Otherwise the sandbox carries on with its other layers and says why here.
 */
export function decideAppArmor(facts: AppArmorFacts): AppArmorStatus {
  const enabled = facts.engineSecurityOptions.some((s) => s === 'name=apparmor' || s.startsWith('name=apparmor,'));
  if (!enabled) return { state: 'unavailable', reason: 'the host has no AppArmor (the engine reports none): relying on seccomp, capabilities and namespaces' };
  const loaded = (facts.loadedProfiles ?? '').split('\n').some((line) => line.split(' ')[0] === APPARMOR_PROFILE);
  if (!loaded) {
    return {
      state: 'unavailable',
      reason: `AppArmor is enabled but the profile ${APPARMOR_PROFILE} is not loaded (apparmor_parser -r executor-agent/security/apparmor-profile): the engine's docker-default profile applies instead`,
    };
  }
  return { state: 'applied', profile: APPARMOR_PROFILE };
}

/** Reads the host's loaded AppArmor profiles; undefined when the host has no AppArmor. */
export async function readLoadedAppArmorProfiles(path = '/sys/kernel/security/apparmor/profiles'): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}
