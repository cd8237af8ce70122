export { startAdminServer, bearerToken, AdminConfigError } from './admin-server.js';
export type { AdminServer, AdminServerOptions, AdminConfig, AdminStatus } from './admin-server.js';
