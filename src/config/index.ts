export { configSchema, type BulwarkConfig, type BulwarkConfigInput } from './schema.js';
export { routeSchema, ROUTE_KINDS, type RouteConfig, type RouteKind } from './schema-route.js';
export { loadConfigFile, parseConfigText, type LoadedConfig } from './load.js';
export { ConfigError, formatIssue, type ConfigIssue } from './config-error.js';
export { parseDuration, parseSize, parseListen } from './units.js';
