import { ConfigError } from '../config/config-error.js';
import { loadConfigFile, type LoadedConfig } from '../config/load.js';

export const DEFAULT_CONFIG_FILE = 'bulwark.yaml';

/** Loads the config, or prints every located issue and exits 1. */
export function loadOrExit(file: string): LoadedConfig {
  try {
    return loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n${err.issues.length} error${err.issues.length === 1 ? '' : 's'} in ${file}\n`);
      process.exit(1);
    }
    throw err;
  }
}
