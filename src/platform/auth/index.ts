/** The public face of `platform/auth/` (API tokens); other folders import only this file. */
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
