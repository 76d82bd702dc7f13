/** The public face of `platform/auth/` (API tokens, SSO sessions, the OpenID client); other folders import only this file. */
export {
  type Assignment,
  type ClaimMapping,
  groupsOf,
  identityOf,
  type MappedPerson,
  mapClaims,
  type SignedInPerson,
} from './claims.js';
export { parseCookies, safeReturnPath, serializeCookie } from './cookies.js';
export { type AuthorizationRequest, OidcClient, OidcError, type OidcSettings } from './oidc.js';
export { assignmentFor, assignPerson, listPeople, type PersonAssignment, unassignPerson } from './people.js';
export {
  csrfMatches,
  csrfTokenFor,
  endSession,
  endSessionsOf,
  LOGIN_TTL_MS,
  type OpenedSession,
  openSession,
  randomSecret,
  type SessionDeps,
  type SessionSettings,
  saveLogin,
  sessionHandle,
  takeLogin,
  takeLogoutToken,
  verifySession,
} from './sessions.js';
export {
  canWrite,
  type OwnedCatalog,
  type Owners,
  ownersOf,
  type ReadScope,
  readScopeOf,
  servicesOfSlos,
  teamsOwning,
  type WriteDecision,
} from './teams.js';
export {
  type AuthDeps,
  createToken,
  listTokens,
  type Principal,
  ROLES,
  type Role,
  revokeToken,
  roleAllows,
  verifyToken,
} from './tokens.js';
