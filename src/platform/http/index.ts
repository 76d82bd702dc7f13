/** The public face of `platform/http/` (server, problem details, shared routes); other folders import only this file. */

export { type BodyEncoding, chooseEncoding, EncodedBody, sendEncoded } from './encoded-body.js';
export { healthRoutes, type ReadinessCheck } from './health-routes.js';
export { markdownRoutes } from './markdown-routes.js';
export { type App, buildServer, type TeamReads, type TeamWrites } from './server.js';
export { webRoutes } from './web-routes.js';
