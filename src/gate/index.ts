/** The public face of `gate/` (deploy gates); other folders import only this file. */
export { gateRoutes } from './routes.js';
export { type GateDeps, gateFor, listOverrides } from './service.js';
